//! The figures a benchmark needs beyond counts: an interval around a win
//! rate, and whether a grader may favour its own family.

use serde::{Deserialize, Serialize};

/// A 95% confidence interval around a proportion.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

/// z for a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

/// The Wilson score interval for `successes` of `n` at 95%. Unlike the
/// normal approximation it stays inside [0, 1] and is not zero-width at
/// 0/n or n/n, which small evaluations hit often. `None` for n = 0.
pub fn wilson(successes: u32, n: u32) -> Option<Interval> {
    if n == 0 {
        return None;
    }
    let n = f64::from(n);
    let p = f64::from(successes.min(n as u32)) / n;
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    Some(Interval {
        low: (centre - half).max(0.0),
        high: (centre + half).min(1.0),
    })
}

/// A model's family: its name without the provider's path, cut at the
/// first digit, `-`, `.`, `:` or `_` (`openai/gpt-4o-mini` → `gpt`,
/// `anthropic/claude-3.5-sonnet` → `claude`, `local/SmolLM2-135M` →
/// `smollm`). Graders are known to prefer answers of their own family.
pub fn family(model: &str) -> String {
    let name = model.rsplit('/').next().unwrap_or(model);
    let stem: String = name
        .chars()
        .take_while(|c| !(c.is_ascii_digit() || matches!(c, '-' | '.' | ':' | '_')))
        .collect();
    let stem = if stem.is_empty() { name } else { &stem };
    stem.to_lowercase()
}

/// Why `grader` may prefer one side: the answers of its own family it
/// reads (the synthesizer's, or a baseline's), in words; empty when none.
pub fn self_preference(grader: &str, synthesizer: &str, baselines: &[String]) -> Vec<String> {
    let own = family(grader);
    let mut out = Vec::new();
    if family(synthesizer) == own {
        out.push(format!(
            "{grader} grades the synthesis of {synthesizer}, of its own family ({own})"
        ));
    }
    for b in baselines {
        if family(b) == own {
            out.push(format!(
                "{grader} grades the baseline {b}, of its own family ({own})"
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(i: Interval, low: f64, high: f64) -> bool {
        (i.low - low).abs() < 5e-4 && (i.high - high).abs() < 5e-4
    }

    #[test]
    fn wilson_intervals_match_the_formula_at_the_edges_and_the_middle() {
        let all = wilson(4, 4).unwrap();
        assert!(close(all, 0.5101, 1.0), "{all:?}");
        let half = wilson(2, 4).unwrap();
        assert!(close(half, 0.1500, 0.8500), "{half:?}");
        let none = wilson(0, 10).unwrap();
        assert!(close(none, 0.0, 0.2775), "{none:?}");
        let many = wilson(69, 100).unwrap();
        assert!(close(many, 0.5937, 0.7722), "{many:?}");
        assert_eq!(wilson(0, 0), None);
    }

    #[test]
    fn families_ignore_the_provider_and_the_version() {
        assert_eq!(family("openai/gpt-4o-mini"), "gpt");
        assert_eq!(family("gpt-4o"), "gpt");
        assert_eq!(family("anthropic/claude-3.5-sonnet"), "claude");
        assert_eq!(family("local/SmolLM2-135M-Instruct.Q4_1"), "smollm");
        assert_eq!(family("qwen2.5:7b"), "qwen");
        assert_eq!(family("base/x"), "x");
        let why = self_preference(
            "openai/gpt-4o",
            "openai/gpt-4o-mini",
            &["anthropic/claude-3".into(), "gpt-4.1".into()],
        );
        assert_eq!(why.len(), 2, "{why:?}");
        assert!(self_preference("google/gemini-2.0", "openai/gpt-4o", &[]).is_empty());
    }
}
