//! The fixture corpus: every case under tests/fixtures/cases/ is a chart plus a `cmd` file
//! (the arguments after `template`, one a line). Its exit code, stdout and stderr are pinned
//! in one snapshot, so output and error messages are reviewed alike.

use crate::support::{bin, read_args, run_program};

#[test]
fn fixture_cases() {
    insta::glob!("../fixtures/cases", "*/cmd", |cmd| {
        let dir = cmd.parent().expect("case directory");
        let mut args = vec!["template".to_string()];
        args.extend(read_args(cmd));
        let run = run_program(&bin(), dir, &args, None);
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if name.starts_with("ok-") {
            assert_eq!(run.code, 0, "{name} should render: {}", run.stderr);
        } else {
            assert!(
                run.code == 1 || run.code == 2,
                "{name} should fail with 1 or 2: {}",
                run.snapshot()
            );
            assert!(
                run.stdout.is_empty(),
                "{name}: a failed render writes nothing to stdout"
            );
            // An error, or the validator's findings on the render.
            assert!(
                run.stderr.starts_with("Error: ") || run.stderr.starts_with("error["),
                "{name}: {}",
                run.stderr
            );
            assert!(!run.stderr.contains("panicked"), "{name} panicked");
        }
        insta::assert_snapshot!(run.snapshot());
    });
}
