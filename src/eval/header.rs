//! The first line of a results file: what the evaluation was (its council,
//! baselines and grader), so `--resume` never mixes in another one's
//! results without saying so.

use serde::{Deserialize, Serialize};

use super::Evaluation;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultsHeader {
    /// The council's members, by model.
    pub members: Vec<String>,
    pub judge: String,
    pub synthesizer: String,
    pub baselines: Vec<String>,
    /// The grader's model; several graders' models joined by `,`.
    pub grader: String,
}

/// The line as written: `{"evaluation": {...}}` (no result has that key).
#[derive(Serialize, Deserialize)]
struct Line {
    evaluation: ResultsHeader,
}

impl ResultsHeader {
    pub fn of(ev: &Evaluation) -> Self {
        let model = |s: &crate::engine::Seat| s.spec.model.clone();
        Self {
            members: ev.council.members.iter().map(model).collect(),
            judge: model(&ev.council.judge),
            synthesizer: model(&ev.council.synthesizer),
            baselines: ev.baselines.iter().map(model).collect(),
            grader: ev.graders.iter().map(model).collect::<Vec<_>>().join(","),
        }
    }

    /// The graders' models.
    pub fn graders(&self) -> Vec<String> {
        self.grader.split(',').map(str::to_string).collect()
    }

    /// The header line, without its line break.
    pub fn line(&self) -> String {
        serde_json::to_string(&Line {
            evaluation: self.clone(),
        })
        .unwrap_or_default()
    }

    /// The header of a results file's text, if its first line is one.
    pub fn read(text: &str) -> Option<Self> {
        let first = text.lines().next()?;
        serde_json::from_str::<Line>(first)
            .ok()
            .map(|l| l.evaluation)
    }

    /// What differs from `wanted`, in words (`baselines: base/x there,
    /// base/y here`); empty when they are the same evaluation.
    pub fn differences(&self, wanted: &Self) -> Vec<String> {
        let mut out = Vec::new();
        let mut compare = |what: &str, there: String, here: String| {
            if there != here {
                out.push(format!("{what}: {there} there, {here} here"));
            }
        };
        compare("members", self.members.join(","), wanted.members.join(","));
        compare("judge", self.judge.clone(), wanted.judge.clone());
        compare(
            "synthesizer",
            self.synthesizer.clone(),
            wanted.synthesizer.clone(),
        );
        compare(
            "baselines",
            self.baselines.join(","),
            wanted.baselines.join(","),
        );
        compare("grader", self.grader.clone(), wanted.grader.clone());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(baselines: &[&str]) -> ResultsHeader {
        ResultsHeader {
            members: vec!["ok/a".into(), "ok/b".into()],
            judge: "ok/a".into(),
            synthesizer: "ok/a".into(),
            baselines: baselines.iter().map(|b| b.to_string()).collect(),
            grader: "grader/g".into(),
        }
    }

    #[test]
    fn the_header_reads_back_and_names_what_differs() {
        let h = header(&["base/x"]);
        let text = format!("{}\n{{\"id\":\"q1\"}}\n", h.line());
        assert_eq!(ResultsHeader::read(&text), Some(h.clone()));
        assert_eq!(
            ResultsHeader::read("{\"id\":\"q1\"}\n"),
            None,
            "an older file"
        );
        assert!(h.differences(&h).is_empty());
        assert_eq!(
            h.differences(&header(&["base/y"])),
            ["baselines: base/x there, base/y here"]
        );
    }
}
