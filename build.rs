//! Prepares the bundled Kubernetes schemas at build time, so that a run looks a kind up instead
//! of decompressing and splitting a bundle: each `schemas/kubernetes/v1.<minor>.json.gz` becomes
//! one text holding every kind's name and schema and every definition's, as compact JSON, with
//! sorted indexes of where each one starts and ends (`$OUT_DIR/schemas.rs` names them all).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};

fn main() {
    pack_relative_relocations();
    let source = Path::new("schemas/kubernetes");
    println!("cargo::rerun-if-changed={}", source.display());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut minors: Vec<(u64, PathBuf)> = std::fs::read_dir(source)
        .expect("schemas/kubernetes is readable")
        .map(|entry| entry.expect("a readable entry").path())
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?;
            let minor = name
                .strip_prefix("v1.")?
                .strip_suffix(".json.gz")?
                .parse()
                .ok()?;
            Some((minor, path))
        })
        .collect();
    minors.sort();
    let mut code =
        String::from("/// The bundled minor versions of Kubernetes 1.x and their schemas.\n");
    writeln!(
        code,
        "pub(super) static BUNDLES: [(u64, Bundle); {}] = [",
        minors.len()
    )
    .unwrap();
    for (minor, path) in &minors {
        println!("cargo::rerun-if-changed={}", path.display());
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(path).expect("a readable bundle"))
            .read_to_string(&mut text)
            .expect("a gzipped bundle");
        let bundle: serde_json::Value = serde_json::from_str(&text).expect("a JSON bundle");
        let definitions = &bundle["definitions"];
        // Kinds are looked up by lower-case key, definitions by their name as it is.
        let kinds = compact(&bundle["kinds"], str::to_lowercase);
        let defs = compact(&definitions["$defs"], str::to_string);
        let mut joined = String::new();
        let mut index = |entries: &BTreeMap<String, String>| {
            let mut rows = String::new();
            // Offsets only (the name first, then the schema): a table of numbers needs no
            // relocation when the binary loads, as a table of string pointers would.
            for (name, schema) in entries {
                let name_start = joined.len();
                joined.push_str(name);
                let start = joined.len();
                joined.push_str(schema);
                writeln!(rows, "        [{name_start}, {start}, {}],", joined.len()).unwrap();
            }
            rows
        };
        let kind_rows = index(&kinds);
        let definition_rows = index(&defs);
        let file = format!("kubernetes-v1.{minor}.json");
        std::fs::write(out.join(&file), &joined).expect("OUT_DIR is writable");
        let draft = match definitions["$schema"].as_str() {
            Some(draft) => format!("Some({draft:?})"),
            None => "None".into(),
        };
        writeln!(
            code,
            "    ({minor}, Bundle {{\n        text: include_str!(concat!(env!(\"OUT_DIR\"), \"/{file}\")),\n        draft: {draft},\n        kinds: &[\n{kind_rows}        ],\n        definitions: &[\n{definition_rows}        ],\n    }}),"
        )
        .unwrap();
    }
    code.push_str("];\n");
    std::fs::write(out.join("schemas.rs"), code).expect("OUT_DIR is writable");
}

/// The members of a JSON object as compact JSON text, sorted by `name` of their key.
fn compact(object: &serde_json::Value, name: fn(&str) -> String) -> BTreeMap<String, String> {
    object
        .as_object()
        .expect("a bundle's kinds and definitions are objects")
        .iter()
        .map(|(key, schema)| {
            let mut schema = schema.clone();
            drop_annotations(&mut schema);
            (name(key), schema.to_string())
        })
        .collect()
}

/// Removes the `x-kubernetes-*` annotations (list types, patch strategies, group-version-kind)
/// of `schema` and of the schemas in it: they assert nothing in a schema check, and a run that
/// reads less JSON compiles its kinds sooner. Property names are left alone (a CRD's schema
/// has properties called `x-kubernetes-...`).
fn drop_annotations(schema: &mut serde_json::Value) {
    let Some(members) = schema.as_object_mut() else {
        return;
    };
    members.retain(|key, _| !key.starts_with("x-kubernetes-"));
    for (keyword, value) in members.iter_mut() {
        match (keyword.as_str(), value) {
            ("properties", serde_json::Value::Object(properties)) => {
                properties.values_mut().for_each(drop_annotations);
            }
            ("additionalProperties" | "items" | "not", sub) => drop_annotations(sub),
            ("oneOf" | "anyOf" | "allOf", serde_json::Value::Array(subs)) => {
                subs.iter_mut().for_each(drop_annotations);
            }
            _ => {}
        }
    }
}

/// Links the program with its relative relocations packed (RELR, glibc 2.36 and later): tens of
/// thousands of 24-byte entries become a few kilobytes of bitmaps, so the loader reads and
/// applies far less before `main` while the program stays position-independent (a millisecond
/// of every run on a small chart).
fn pack_relative_relocations() {
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.starts_with("x86_64-") && target.ends_with("-linux-gnu") {
        println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
