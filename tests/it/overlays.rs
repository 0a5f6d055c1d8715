//! The Aether chart never crashes on an overlay its schema accepts: random overlays, each valid
//! under values.schema.json (and the world-server subchart's), either render or get validator
//! findings, never a template error. The overlays come from a small JSON-schema-driven
//! generator: it picks a few paths of the schema and gives each a value the schema allows.

use serde_json::{Map, Value, json};

use crate::support::{bin, repo_root, run_program};

/// How many overlays one run tries (`AETHER_OVERLAYS` asks for more, to explore).
fn overlays() -> u64 {
    std::env::var("AETHER_OVERLAYS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(120)
}

/// A small deterministic generator (xorshift64*), so a failure names a seed that reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Strings tried for a `pattern`: the first few that match are the candidates.
const POOL: &[&str] = &[
    "alpha",
    "beta-2",
    "x",
    "",
    "/health",
    "/a/b",
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "10.0.0.0/8",
    "fd00::/64",
    "https://ha.example.com",
    "http://localhost:8123",
    "250m",
    "2",
    "1.5",
    "512Mi",
    "4Gi",
    "pre-install",
    "post-install,post-upgrade",
    "app_db",
    "region-1",
    "eu-west-1",
    "a.b-c",
];

/// A schema and the document its `$ref`s point into.
struct Schema<'a> {
    root: &'a Value,
}

impl<'a> Schema<'a> {
    /// `node` with its `$ref` (`#/$defs/NAME`) followed.
    fn resolve(&self, node: &'a Value) -> &'a Value {
        match node.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let path = reference.trim_start_matches("#/");
                let target = path
                    .split('/')
                    .try_fold(self.root, |n, key| n.get(key))
                    .unwrap_or_else(|| panic!("unresolved {reference}"));
                self.resolve(target)
            }
            None => node,
        }
    }

    /// A value `node` allows.
    fn value(&self, node: &'a Value, rng: &mut Rng, depth: usize) -> Value {
        let node = self.resolve(node);
        if let Some(constant) = node.get("const") {
            return constant.clone();
        }
        if let Some(choices) = node.get("enum").and_then(Value::as_array) {
            return rng.pick(choices).clone();
        }
        if let Some(branches) = node.get("anyOf").and_then(Value::as_array) {
            let usable: Vec<&Value> = branches
                .iter()
                .filter(|b| self.resolve(b).get("type") != Some(&json!("null")))
                .collect();
            let branch: &&'a Value = rng.pick(usable.as_slice());
            return self.value(branch, rng, depth);
        }
        let kind = match node.get("type") {
            Some(Value::String(t)) => t.clone(),
            Some(Value::Array(types)) => {
                let types: Vec<&str> = types
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|t| *t != "null")
                    .collect();
                rng.pick(&types).to_string()
            }
            _ if node.get("properties").is_some() => "object".into(),
            _ => "string".into(),
        };
        match kind.as_str() {
            "object" => self.object(node, rng, depth),
            "array" => self.array(node, rng, depth),
            "integer" => json!(self.integer(node, rng)),
            "number" => json!(self.integer(node, rng) as f64 + 0.5 * rng.below(2) as f64),
            "boolean" => json!(rng.chance(50)),
            _ => json!(self.string(node, rng)),
        }
    }

    fn integer(&self, node: &Value, rng: &mut Rng) -> i64 {
        let low = node.get("minimum").and_then(Value::as_i64).unwrap_or(0);
        let high = node
            .get("maximum")
            .and_then(Value::as_i64)
            .unwrap_or(low + 20)
            .max(low);
        // The bounds themselves are the likeliest to break a template.
        match rng.below(4) {
            0 => low,
            1 => high,
            _ => low + rng.below((high - low + 1) as u64) as i64,
        }
    }

    fn string(&self, node: &Value, rng: &mut Rng) -> String {
        let min = node.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = node.get("maxLength").and_then(Value::as_u64).unwrap_or(63) as usize;
        let fits = |s: &&str| s.len() >= min && s.len() <= max;
        match node.get("pattern").and_then(Value::as_str) {
            Some(pattern) => {
                let re = regex::Regex::new(pattern).expect("the schema's pattern compiles");
                let candidates: Vec<&str> = POOL
                    .iter()
                    .copied()
                    .filter(|s| re.is_match(s))
                    .filter(|s| fits(s))
                    .collect();
                assert!(!candidates.is_empty(), "no sample string matches {pattern}");
                rng.pick(&candidates).to_string()
            }
            None => {
                let candidates: Vec<&str> = POOL
                    .iter()
                    .copied()
                    .filter(|s| fits(s) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
                    .filter(|s| !s.is_empty())
                    .collect();
                rng.pick(&candidates).to_string()
            }
        }
    }

    fn object(&self, node: &'a Value, rng: &mut Rng, depth: usize) -> Value {
        let mut out = Map::new();
        let required: Vec<&str> = node
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let empty = Map::new();
        let properties = node.get("properties").and_then(Value::as_object);
        // A required member the schema does not describe takes any value: a string.
        for name in &required {
            if !properties.unwrap_or(&empty).contains_key(*name) {
                out.insert(name.to_string(), json!(self.string(&json!({}), rng)));
            }
        }
        if let Some(properties) = properties {
            for (name, property) in properties {
                if required.contains(&name.as_str()) || (depth < 6 && rng.chance(35)) {
                    out.insert(name.clone(), self.value(property, rng, depth + 1));
                }
            }
        } else if let Some(extra) = node.get("additionalProperties").filter(|a| a.is_object()) {
            for i in 0..rng.below(3) {
                out.insert(format!("key{i}"), self.value(extra, rng, depth + 1));
            }
        }
        Value::Object(out)
    }

    fn array(&self, node: &'a Value, rng: &mut Rng, depth: usize) -> Value {
        let min = node.get("minItems").and_then(Value::as_u64).unwrap_or(0);
        let max = node
            .get("maxItems")
            .and_then(Value::as_u64)
            .unwrap_or(min + 3);
        let count = min + rng.below(max.saturating_sub(min) + 1);
        let items = node
            .get("items")
            .cloned()
            .unwrap_or(json!({"type": "string"}));
        let items = Box::leak(Box::new(items));
        Value::Array(
            (0..count)
                .map(|_| self.value(items, rng, depth + 1))
                .collect(),
        )
    }

    /// The object schema at a path of property names, if every step is an object with
    /// properties.
    fn properties(&self, node: &'a Value) -> Option<&'a Map<String, Value>> {
        self.resolve(node)
            .get("properties")
            .and_then(Value::as_object)
    }
}

/// An overlay: a few paths of the schema, each set to a value it allows.
fn overlay(root: &Schema<'_>, sub: &Schema<'_>, rng: &mut Rng) -> Value {
    let mut out = Map::new();
    for _ in 0..1 + rng.below(4) {
        let in_sub = rng.chance(30);
        let (schema, top, prefix) = if in_sub {
            (sub, sub.root, Some("world-server"))
        } else {
            (root, root.root, None)
        };
        // Walk down a random number of levels of properties, then set the value there.
        let mut path: Vec<String> = prefix.into_iter().map(str::to_string).collect();
        let mut node = top;
        while let Some(properties) = schema.properties(node) {
            let names: Vec<&String> = properties
                .keys()
                .filter(|k| prefix.is_some() || k.as_str() != "world-server")
                .collect();
            if names.is_empty() {
                break;
            }
            let name = rng.pick(&names);
            path.push((*name).clone());
            node = &properties[name.as_str()];
            if !rng.chance(55) {
                break;
            }
        }
        if path.is_empty() || path.len() == usize::from(prefix.is_some()) {
            continue;
        }
        let value = schema.value(node, rng, path.len());
        insert(&mut out, &path, value);
    }
    Value::Object(out)
}

fn insert(map: &mut Map<String, Value>, path: &[String], value: Value) {
    let (first, rest) = path.split_first().unwrap();
    if rest.is_empty() {
        map.insert(first.clone(), value);
        return;
    }
    let entry = map
        .entry(first.clone())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    insert(entry.as_object_mut().unwrap(), rest, value);
}

#[test]
fn random_overlays_the_schema_accepts_never_crash_the_chart() {
    let read = |p: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(repo_root().join(p)).unwrap()).unwrap()
    };
    let (root_doc, sub_doc) = (
        read("values.schema.json"),
        read("charts/world-server/values.schema.json"),
    );
    let (root, sub) = (Schema { root: &root_doc }, Schema { root: &sub_doc });
    let tmp = tempfile::tempdir().unwrap();
    let (mut rendered, mut found, mut schema) = (0, 0, 0);
    let mut declared = 0;
    let total = overlays();
    for seed in 1..=total {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let overlay = overlay(&root, &sub, &mut rng);
        let text = serde_yaml::to_string(&overlay).unwrap();
        let file = tmp.path().join(format!("overlay-{seed}.yaml"));
        std::fs::write(&file, &text).unwrap();
        // Over an environment's overlay, as ops teams layer theirs.
        let base =
            ["values/dev.yaml", "values/staging.yaml", "values/prod.yaml"][seed as usize % 3];
        {
            let mut args = vec!["template".to_string(), "-f".to_string(), base.to_string()];
            args.extend([
                "-f".to_string(),
                file.display().to_string(),
                "-q".to_string(),
            ]);
            let run = run_program(&bin(), &repo_root(), &args, None);
            let context = format!(
                "seed {seed} over {base:?}, overlay:\n{text}\n{}",
                run.snapshot()
            );
            assert!(!run.stderr.contains("panicked"), "{context}");
            match run.code {
                0 => rendered += 1,
                1 if run.stderr.starts_with("error[") => {
                    assert!(run.stdout.is_empty(), "{context}");
                    found += 1;
                }
                // The generator knows no conditionals (`if`/`then`): the schema refuses some
                // overlays, and then names the line to change.
                1 if run.stderr.starts_with("Error: the values do not match `") => {
                    assert!(
                        run.stderr.contains(" set at ")
                            || run.stderr.contains("deleted at ")
                            || run.stderr.contains("no values file or flag sets"),
                        "{context}"
                    );
                    schema += 1;
                }
                // An invariant no schema can state (a canary stage within its stages, a grace
                // period above a timeout), declared by the chart's own `fail`: a finding about
                // the values that names the lines that set them.
                1 if run
                    .stderr
                    .starts_with("Error: the chart refuses these values") =>
                {
                    assert!(run.stderr.contains("\n  = set at "), "{context}");
                    declared += 1;
                }
                _ => panic!("an overlay the schema accepts broke the chart: {context}"),
            }
        }
    }
    eprintln!(
        "{rendered} rendered, {found} with findings, {schema} refused by the schema, {declared} \
         by the chart's own checks"
    );
    // Every outcome occurs, and most overlays get past the schema.
    assert!(
        rendered > 20 && found > 20 && (schema + declared) * 3 < total,
        "{rendered} rendered, {found} with findings, {schema} refused by the schema, \
         {declared} by the chart's own checks"
    );
}
