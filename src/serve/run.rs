//! One served council: its events folded into a report and saved, and
//! turned into what the client reads (progress as reasoning, the synthesis
//! as content). The run is cancelled when the client goes away or the
//! server's grace period ends.

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::conversation::{Conversation, SAVE_WAIT};
use crate::engine::{CouncilEvent, SynthesisFeed};
use crate::{RunReport, progress};

/// What the client is sent, in order.
pub(super) enum Out {
    /// A line of progress (members started and done, the judge's counts).
    Reasoning(String),
    /// Synthesis text.
    Content(String),
    /// The run is over.
    Done(Box<Finished>),
}

pub(super) struct Finished {
    pub(crate) report: RunReport,
    /// The session it was saved as, when it was.
    pub(crate) session_id: Option<String>,
}

/// What the client is shown beside the answer.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shown {
    /// Progress lines, as reasoning.
    pub(super) progress: bool,
    /// The synthesizer's citations, as it wrote them.
    pub(super) keep_citations: bool,
}

/// Drives the conversation's run to its end in a task of its own; the
/// receiver gets what to send. Dropping the receiver (the client is gone)
/// or `shutdown` cancels the run; its events are still drained and saved.
///
/// Progress is sent only before the synthesis starts (a client shows the
/// answer after its reasoning, never inside it), and not at all without
/// `progress`. The answer is the report's text, its citations taken out,
/// unless they are kept.
pub(super) fn drive(
    mut conversation: Conversation,
    shutdown: CancellationToken,
    shown: Shown,
) -> mpsc::UnboundedReceiver<Out> {
    let Shown {
        progress,
        keep_citations,
    } = shown;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let gone = async {
            tokio::select! {
                () = tx.closed() => {}
                () = shutdown.cancelled() => {}
            }
        };
        let mut answering = false;
        let mut synthesis = SynthesisFeed::default();
        conversation
            .run_to_end(gone, |event, report| {
                // Sends fail only once the client is gone; the run is cancelled then.
                if !keep_citations {
                    if let Some(new) = synthesis.take(event, report) {
                        answering = true;
                        let _ = tx.send(Out::Content(new.to_string()));
                    }
                    if matches!(event, CouncilEvent::SynthesisDelta { .. }) {
                        return;
                    }
                }
                let _ = match event {
                    CouncilEvent::SynthesisDelta { text } => {
                        answering = true;
                        tx.send(Out::Content(text.clone()))
                    }
                    _ if answering || !progress => Ok(()),
                    CouncilEvent::MemberStarted { member } => tx.send(Out::Reasoning(format!(
                        "{} started\n",
                        report.members.get(*member).map_or("?", |m| m.name.as_str())
                    ))),
                    event => match progress::line(event, report) {
                        Some(line) => tx.send(Out::Reasoning(format!("{}\n", line.trim_start()))),
                        None => Ok(()),
                    },
                };
            })
            .await;
        let session_id = conversation.close(SAVE_WAIT).await.and_then(Result::ok);
        let report = conversation.report().clone();
        let _ = tx.send(Out::Done(Box::new(Finished { report, session_id })));
    });
    rx
}
