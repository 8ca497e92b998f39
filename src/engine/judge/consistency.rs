//! Position-swap consistency: a judge asked more than once, each time with
//! the answers in another order, keeps the findings it makes again. Judges
//! flip a large share of verdicts when the order changes; what survives the
//! swap is worth more, and the share that recurs says how steady it was.

use serde::{Deserialize, Serialize};

use super::analysis::{Analysis, Contradiction, Finding, Quote};

/// How steady the judge was over its samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Consistency {
    /// How many times the judge read the answers (with an analysis back).
    pub(crate) samples: usize,
    /// Distinct findings over all samples.
    pub(crate) findings: usize,
    /// Those found by at least two samples: the ones kept.
    pub(crate) recurring: usize,
    /// `recurring / findings` (1 when there were none).
    pub(crate) share: f64,
}

/// Two quotes overlap when they are from one member and their spans meet,
/// or (unverified) say the same thing.
fn overlapping(a: &[Quote], b: &[Quote]) -> bool {
    a.iter().any(|x| {
        b.iter().any(|y| {
            x.member == y.member
                && match (x.span, y.span) {
                    (Some((s1, e1)), Some((s2, e2))) => s1 < e2 && s2 < e1,
                    _ => x.text.trim().eq_ignore_ascii_case(y.text.trim()),
                }
        })
    })
}

fn sorted(names: &[String]) -> Vec<&str> {
    let mut v: Vec<&str> = names.iter().map(String::as_str).collect();
    v.sort_unstable();
    v
}

/// One item made again: it names the same members, or quotes the same words.
fn same_finding(a: &Finding, b: &Finding) -> bool {
    sorted(&a.members) == sorted(&b.members) || overlapping(&a.quotes, &b.quotes)
}

fn sides(c: &Contradiction) -> Vec<Vec<&str>> {
    let mut v: Vec<Vec<&str>> = c.stances.iter().map(|s| sorted(&s.members)).collect();
    v.sort();
    v
}

fn same_contradiction(a: &Contradiction, b: &Contradiction) -> bool {
    let quotes = |c: &Contradiction| -> Vec<Quote> {
        c.stances.iter().flat_map(|s| s.quotes.clone()).collect()
    };
    sides(a) == sides(b) || overlapping(&quotes(a), &quotes(b))
}

/// Items of one section across samples, grouped: each group keeps the
/// first sample's version and counts the samples that made it.
fn cluster<T: Clone>(per_sample: Vec<&[T]>, same: impl Fn(&T, &T) -> bool) -> Vec<(T, usize)> {
    let mut groups: Vec<(T, usize, usize)> = Vec::new(); // item, count, last sample
    for (sample, items) in per_sample.into_iter().enumerate() {
        for item in items {
            match groups
                .iter_mut()
                .find(|(g, _, last)| *last != sample && same(g, item))
            {
                Some(group) => {
                    group.1 += 1;
                    group.2 = sample;
                }
                None => groups.push((item.clone(), 1, sample)),
            }
        }
    }
    groups.into_iter().map(|(g, n, _)| (g, n)).collect()
}

/// The findings at least two samples made (each marked with how many
/// did), and how steady the judge was. One sample is returned as it is.
pub fn merge(mut samples: Vec<Analysis>) -> (Analysis, Consistency) {
    let n = samples.len();
    let unknown_labels = samples.iter().map(|a| a.unknown_labels).sum();
    let checked = samples.iter().all(|a| a.checked);
    if n <= 1 {
        let analysis = samples.pop().unwrap_or_default();
        let findings = analysis.item_count();
        let consistency = Consistency {
            samples: n,
            findings,
            recurring: findings,
            share: 1.0,
        };
        return (analysis, consistency);
    }
    let (mut findings, mut recurring) = (0, 0);
    let mut keep_findings = |pick: fn(&Analysis) -> &Vec<Finding>| -> Vec<Finding> {
        let groups = cluster(
            samples.iter().map(|a| pick(a).as_slice()).collect(),
            same_finding,
        );
        findings += groups.len();
        groups
            .into_iter()
            .filter(|(_, count)| *count >= 2)
            .map(|(mut f, count)| {
                recurring += 1;
                f.samples = Some(count);
                f
            })
            .collect()
    };
    let consensus = keep_findings(|a| &a.consensus);
    let blind_spots = keep_findings(|a| &a.blind_spots);
    let unique_insights = keep_findings(|a| &a.unique_insights);
    let partial_coverage = keep_findings(|a| &a.partial_coverage);
    let groups = cluster(
        samples
            .iter()
            .map(|a| a.contradictions.as_slice())
            .collect(),
        same_contradiction,
    );
    findings += groups.len();
    let contradictions: Vec<Contradiction> = groups
        .into_iter()
        .filter(|(_, count)| *count >= 2)
        .map(|(mut c, count)| {
            recurring += 1;
            c.samples = Some(count);
            c
        })
        .collect();
    let analysis = Analysis {
        consensus,
        contradictions,
        blind_spots,
        unique_insights,
        partial_coverage,
        unknown_labels,
        checked,
    };
    let share = if findings == 0 {
        1.0
    } else {
        recurring as f64 / findings as f64
    };
    (
        analysis,
        Consistency {
            samples: n,
            findings,
            recurring,
            share,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(point: &str, members: &[&str]) -> Finding {
        Finding {
            point: point.into(),
            members: members.iter().map(|m| m.to_string()).collect(),
            ..Finding::default()
        }
    }

    #[test]
    fn findings_that_recur_are_kept_and_counted() {
        let first = Analysis {
            consensus: vec![finding("blue", &["a", "b"]), finding("only once", &["a"])],
            ..Analysis::default()
        };
        let second = Analysis {
            // Same members, other words: the same finding. The other is new.
            consensus: vec![finding("scattering", &["b", "a"]), finding("new", &["b"])],
            ..Analysis::default()
        };
        let (kept, c) = merge(vec![first, second]);
        assert_eq!(kept.consensus.len(), 1);
        assert_eq!(kept.consensus[0].point, "blue", "the first sample's words");
        assert_eq!(kept.consensus[0].samples, Some(2));
        assert_eq!((c.samples, c.findings, c.recurring), (2, 3, 1));
        assert!((c.share - 1.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn one_sample_is_kept_whole() {
        let only = Analysis {
            consensus: vec![finding("x", &["a"])],
            ..Analysis::default()
        };
        let (kept, c) = merge(vec![only.clone()]);
        assert_eq!(kept, only);
        assert_eq!(c.share, 1.0);
    }
}
