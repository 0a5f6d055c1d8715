//! Shell completions and the man page come from the command-line definitions.

use crate::support::{aether, ok, repo_root};

#[test]
fn completions_cover_every_command_and_parse() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = ok(aether(&repo_root(), &["completions", shell])).stdout;
        for command in [
            "template",
            "lint",
            "package",
            "push",
            "pull",
            "dependency",
            "scale",
            "route",
        ] {
            assert!(
                script.contains(command),
                "{shell} completion lacks {command}"
            );
        }
    }
    let bash = ok(aether(&repo_root(), &["completions", "bash"])).stdout;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("aether-chart.bash"), bash).unwrap();
    let check = std::process::Command::new("bash")
        .args(["-n", dir.path().join("aether-chart.bash").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let run = aether(&repo_root(), &["completions", "tcsh"]);
    assert_eq!(run.code, 2);
}

#[test]
fn the_man_page_has_a_section_per_command() {
    let page = ok(aether(&repo_root(), &["man"])).stdout;
    assert!(page.contains(".TH aether-chart 1"));
    for command in [
        "template",
        "package",
        "push",
        "pull",
        "registry",
        "repo",
        "dependency",
        "scale",
        "route",
    ] {
        assert!(
            page.contains(&format!(".TH aether-chart-{command} 1")),
            "no page for {command}"
        );
    }
}
