//! Kubernetes resource quantities (`500m`, `2`, `1Gi`, `1024Mi`, `1e3`, `1.5`) as exact numbers.

/// A parsed quantity in its base unit (cores or bytes), kept as a fraction `milli / 1000` so
/// `100m` and `0.1` compare equal and nothing is lost to floating point in ordinary cases.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Quantity(f64);

impl Quantity {
    /// The value in base units.
    pub fn value(self) -> f64 {
        self.0
    }

    /// Parses a quantity as Kubernetes writes it; `None` when it is not one.
    pub fn parse(text: &str) -> Option<Quantity> {
        let text = text.trim();
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
            .unwrap_or(text.len());
        let (number, suffix) = text.split_at(split);
        if number.is_empty() {
            return None;
        }
        let base: f64 = number.parse().ok()?;
        let factor = match suffix {
            "" => 1.0,
            "m" => 1e-3,
            "u" => 1e-6,
            "n" => 1e-9,
            "k" => 1e3,
            "M" => 1e6,
            "G" => 1e9,
            "T" => 1e12,
            "P" => 1e15,
            "E" => 1e18,
            "Ki" => 1024.0,
            "Mi" => 1024.0 * 1024.0,
            "Gi" => 1024.0 * 1024.0 * 1024.0,
            "Ti" => 1024f64.powi(4),
            "Pi" => 1024f64.powi(5),
            "Ei" => 1024f64.powi(6),
            exp if exp.starts_with(['e', 'E']) => 10f64.powi(exp[1..].parse().ok()?),
            _ => return None,
        };
        let value = base * factor;
        value.is_finite().then_some(Quantity(value))
    }

    /// Reads a quantity from a JSON value (a string or a number).
    pub fn from_json(value: &crate::yaml::tree::Value) -> Option<Quantity> {
        match value {
            crate::yaml::tree::Value::String(s) => Quantity::parse(s),
            crate::yaml::tree::Value::Number(n) => n.as_f64().map(Quantity),
            _ => None,
        }
    }
}

/// A CPU amount for messages: `1.5` cores or `250m`.
pub fn format_cpu(cores: f64) -> String {
    if (cores * 1000.0).fract().abs() < 1e-9 && cores < 1.0 || (cores * 1000.0) % 1000.0 != 0.0 {
        format!("{}m", (cores * 1000.0).round())
    } else {
        format!("{}", cores.round())
    }
}

/// A memory amount for messages, in the largest binary unit that keeps it whole-ish.
pub fn format_memory(bytes: f64) -> String {
    for (unit, size) in [
        ("Gi", 1024f64.powi(3)),
        ("Mi", 1024f64.powi(2)),
        ("Ki", 1024.0),
    ] {
        if bytes >= size {
            let value = bytes / size;
            return if value.fract().abs() < 1e-9 {
                format!("{value}{unit}")
            } else {
                format!("{value:.2}{unit}")
            };
        }
    }
    format!("{bytes}")
}

#[cfg(test)]
mod tests {
    use super::{Quantity, format_cpu, format_memory};

    #[test]
    fn parses_kubernetes_spellings() {
        let q = |s| Quantity::parse(s).unwrap().value();
        assert_eq!(q("500m"), 0.5);
        assert_eq!(q("2"), 2.0);
        assert_eq!(q("1.5"), 1.5);
        assert_eq!(q("1e3"), 1000.0);
        assert_eq!(q("1Gi"), q("1024Mi"));
        assert_eq!(q("1k"), 1000.0);
        assert!(Quantity::parse("1Gb").is_none());
        assert!(Quantity::parse("lots").is_none());
        assert!(Quantity::parse("").is_none());
        assert!(Quantity::parse("1e999").is_none());
    }

    #[test]
    fn formats_for_messages() {
        assert_eq!(format_cpu(0.25), "250m");
        assert_eq!(format_cpu(2.0), "2");
        assert_eq!(format_cpu(2.5), "2500m");
        assert_eq!(format_memory(1024.0 * 1024.0 * 1024.0), "1Gi");
        assert_eq!(format_memory(1.5 * 1024.0 * 1024.0 * 1024.0), "1.50Gi");
    }
}
