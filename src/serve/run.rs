//! One served council: its events folded into a report and saved, and
//! turned into what the client reads (progress as reasoning, the synthesis
//! as content). The run is cancelled when the client goes away or the
//! server's grace period ends.

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::engine::CouncilEvent;
use crate::session::{FLUSH_EVERY, SessionWriter};
use crate::{RunHandle, RunReport, progress};

/// What the client is sent, in order.
pub enum Out {
    /// A line of progress (members started and done, the judge's counts).
    Reasoning(String),
    /// Synthesis text.
    Content(String),
    /// The run is over.
    Done(Box<Finished>),
}

pub struct Finished {
    pub report: RunReport,
    /// The session it was saved as, when it was.
    pub session_id: Option<String>,
}

/// Drives `handle` to its end in a task of its own; the receiver gets
/// what to send. Dropping the receiver (the client is gone) or `shutdown`
/// cancels the run; its events are still drained and saved.
pub fn drive(
    mut handle: RunHandle,
    mut session: Option<SessionWriter>,
    shutdown: CancellationToken,
) -> mpsc::UnboundedReceiver<Out> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let canceller = handle.canceller();
        let mut report = RunReport::default();
        let mut flush = tokio::time::interval(FLUSH_EVERY);
        loop {
            tokio::select! {
                event = handle.events.recv() => {
                    let Some(event) = event else { break };
                    report.apply(&event);
                    if let Some(writer) = &mut session
                        && writer.record(&event).is_err()
                    {
                        session = None;
                    }
                    // Sends fail only once the client is gone; the run is cancelled then.
                    let _ = match &event {
                        CouncilEvent::SynthesisDelta { text } => tx.send(Out::Content(text.clone())),
                        CouncilEvent::MemberStarted { member } => tx.send(Out::Reasoning(format!(
                            "{} started\n",
                            report.members.get(*member).map_or("?", |m| m.name.as_str())
                        ))),
                        event => match progress::line(event, &report) {
                            Some(line) => tx.send(Out::Reasoning(format!("{}\n", line.trim_start()))),
                            None => Ok(()),
                        },
                    };
                }
                _ = tx.closed(), if !canceller.is_cancelled() => canceller.cancel(),
                _ = shutdown.cancelled(), if !canceller.is_cancelled() => canceller.cancel(),
                _ = flush.tick(), if session.is_some() => {
                    if let Some(writer) = &mut session {
                        let _ = writer.tick();
                    }
                }
            }
        }
        let session_id = session.take().map(|writer| writer.id());
        let _ = tx.send(Out::Done(Box::new(Finished { report, session_id })));
    });
    rx
}
