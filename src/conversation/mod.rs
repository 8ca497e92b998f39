//! The life of a conversation with a council, written once for every front
//! (`ask`, `serve`, `eval`, the TUI): the council's plan and the options of
//! its runs, the earlier turns, the session it is recorded into, the run in
//! progress and its canceller, and the report every event is folded into.
//!
//! A front asks it for an operation ([`Conversation::ask`], a member's
//! re-run, a re-judgement, one more round, a dispute, cancel), then reads
//! the events ([`Conversation::next`] or [`Conversation::recv_many`]),
//! which arrive already folded and recorded. What a front decides is only
//! how to show them.

use std::collections::VecDeque;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;

use crate::attachments::{Attachment, with_attachments};
use crate::config::{ConfigError, CouncilPlan, CouncilRequest};
use crate::engine::estimate::CostEstimate;
use crate::engine::judge::Contradiction;
use crate::engine::{
    Basis, Council, CouncilEvent, PastTurn, RunCanceller, RunOptions, RunReport, RunScope, SeatInfo,
};
use crate::models::prices::Prices;
use crate::provider::Usage;
use crate::session::{self, Recorder, Session, SessionLock};

/// Events taken from the run at once, at most.
const BATCH: usize = 1024;

/// How long closing waits for the session writer to reach the disk.
pub const SAVE_WAIT: Duration = Duration::from_secs(5);

/// Why an operation was not started. Nothing was sent to any model.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The council cannot be connected (an unknown provider, a missing key).
    #[error("{0}")]
    Council(#[from] ConfigError),
    /// The run's estimate is over the budget cap.
    #[error("{0}")]
    OverBudget(String),
    #[error("a run is in progress")]
    Busy,
    /// A re-run, re-judgement or round needs a question asked first.
    #[error("{0}")]
    Nothing(&'static str),
}

/// Where the council's seats come from: a request resolved (and edited)
/// as a plan, or a council already connected (`eval` builds its own).
enum Seats {
    Request {
        request: Box<CouncilRequest>,
        plan: Option<Box<CouncilPlan>>,
    },
    Connected(Box<Council>),
}

/// Where and how runs are saved.
struct Saving {
    dir: PathBuf,
    origin: Option<String>,
    on_error: session::OnError,
}

pub struct Conversation {
    seats: Seats,
    options: RunOptions,
    /// The earlier turns, as the context a follow-up reads.
    earlier: Vec<PastTurn>,
    /// The turn on hand: folded from its runs' events (empty before the
    /// first question).
    report: RunReport,
    saving: Option<Saving>,
    recorder: Option<Recorder>,
    /// The session continued, held so no other process appends to it.
    _lock: Option<SessionLock>,
    events: Option<UnboundedReceiver<CouncilEvent>>,
    /// Received and recorded, not yet handed out by [`Self::next`].
    unread: VecDeque<CouncilEvent>,
    canceller: Option<RunCanceller>,
    /// A panel of one answers alone, without judge or synthesis.
    solo_alone: bool,
}

impl Conversation {
    /// A conversation with the council `request` resolves to (resolved on
    /// first use, so a front can show a bad preset where it shows errors).
    pub fn new(request: CouncilRequest) -> Self {
        Self::with_seats(Seats::Request {
            request: Box::new(request),
            plan: None,
        })
    }

    /// A conversation with a council already connected; its seats are not
    /// edited.
    pub(crate) fn with_council(council: Council) -> Self {
        Self::with_seats(Seats::Connected(Box::new(council)))
    }

    fn with_seats(seats: Seats) -> Self {
        Self {
            seats,
            options: RunOptions::default(),
            earlier: Vec::new(),
            report: RunReport::default(),
            saving: None,
            recorder: None,
            _lock: None,
            events: None,
            unread: VecDeque::new(),
            canceller: None,
            solo_alone: false,
        }
    }

    /// A panel of one answers alone: nothing to judge, nothing to
    /// synthesize (the TUI's single pane). Otherwise it runs the whole
    /// council, as `ask --panel MODEL` does.
    pub fn with_solo_answers(mut self) -> Self {
        self.solo_alone = true;
        self
    }

    /// The options every run starts from (seed, what members see of
    /// earlier turns); a question's attachments and the history are set
    /// per question.
    pub fn with_options(mut self, options: RunOptions) -> Self {
        self.options = options;
        self
    }

    /// Saves every turn in `dir` (none: not saved): the first question
    /// starts a session, later ones continue it. `on_error` hears when a
    /// run cannot be saved.
    pub fn with_sessions(
        mut self,
        dir: Option<PathBuf>,
        origin: Option<&str>,
        on_error: session::OnError,
    ) -> Self {
        self.saving = dir.map(|dir| Saving {
            dir,
            origin: origin.map(str::to_string),
            on_error,
        });
        self
    }

    /// Earlier turns given by the caller (a chat client's history).
    /// The form the final answer must take (a client's `response_format`).
    pub(crate) fn with_answer_format(
        mut self,
        format: Option<crate::provider::JsonSchema>,
    ) -> Self {
        self.options.answer_format = format;
        self
    }

    pub(crate) fn with_history(mut self, history: Vec<PastTurn>) -> Self {
        self.earlier = history;
        self
    }

    /// The seats as resolved, if they are.
    pub(crate) fn resolved_plan(&self) -> Option<&CouncilPlan> {
        match &self.seats {
            Seats::Request { plan, .. } => plan.as_deref(),
            Seats::Connected(_) => None,
        }
    }

    /// The seats to edit (a council given connected has none to edit).
    pub(crate) fn plan_mut(&mut self) -> Result<&mut CouncilPlan, ConfigError> {
        match &mut self.seats {
            Seats::Request { request, plan } => {
                if plan.is_none() {
                    *plan = Some(Box::new(request.plan()?));
                }
                Ok(plan.as_deref_mut().expect("resolved above"))
            }
            Seats::Connected(_) => Err(ConfigError::Invalid(
                "this council was given connected; its seats are not edited".into(),
            )),
        }
    }

    /// The request the seats were resolved from, when they were.
    pub(crate) fn request(&self) -> Option<&CouncilRequest> {
        match &self.seats {
            Seats::Request { request, .. } => Some(request),
            Seats::Connected(_) => None,
        }
    }

    /// Replaces the seats (the panel editor's result). A finished turn on
    /// hand follows: members matched by name keep their answers; returns
    /// the indices of members that are new (the caller may run them alone).
    /// A run in progress keeps the seats it started with.
    pub(crate) fn set_plan(&mut self, new: CouncilPlan) -> Vec<usize> {
        let seats: Vec<SeatInfo> = new.members.iter().map(|s| s.info()).collect();
        if let Seats::Request { plan, .. } = &mut self.seats {
            *plan = Some(Box::new(new));
        }
        if self.report.question.is_empty() || self.running() {
            return Vec::new();
        }
        self.report
            .reseat(&seats)
            .iter()
            .enumerate()
            .filter(|(_, from)| from.is_none())
            .map(|(i, _)| i)
            .collect()
    }

    /// The council connected, for a run.
    pub(crate) fn council(&mut self) -> Result<Council, ConfigError> {
        if let Seats::Connected(council) = &self.seats {
            return Ok((**council).clone());
        }
        let plan = self.plan_mut()?.clone();
        match &self.seats {
            Seats::Request { request, .. } => request.connect(plan),
            Seats::Connected(_) => unreachable!("handled above"),
        }
    }

    /// The budget cap the next run is held to.
    pub(crate) fn cap(&mut self) -> Option<f64> {
        match &self.seats {
            Seats::Connected(council) => council.limits.max_cost,
            Seats::Request { .. } => self.plan_mut().ok()?.limits.max_cost,
        }
    }

    /// The providers' prices a budget check needs: gathered (from the disk
    /// cache, else the providers) only when a cap is set.
    pub async fn prices(&mut self) -> Prices {
        if self.cap().is_none() {
            return Prices::default();
        }
        match self.council() {
            Ok(council) => Prices::gather(&council).await,
            Err(_) => Prices::default(),
        }
    }

    /// Continues a saved session: its turns become the earlier ones, its
    /// last turn the one on hand, and the next question a follow-up saved
    /// in the same file. The seats are the session's unless `own_seats`;
    /// either way the request's role, rounds, ranking and limits apply, as
    /// they would to a new conversation.
    pub(crate) fn continue_session(
        &mut self,
        path: &Path,
        session: Session,
        own_seats: bool,
        lock: Option<SessionLock>,
    ) -> Result<(), Refusal> {
        if self.running() {
            return Err(Refusal::Busy);
        }
        if let Seats::Request { request, plan } = &mut self.seats {
            let mut continued = match own_seats {
                true => request.plan()?,
                false => session.header.council.clone(),
            };
            request.apply_role(&mut continued);
            request.apply_run_flags(&mut continued)?;
            *plan = Some(Box::new(continued));
        }
        // A saved session keeps what its files were, not their text.
        self.options.attachments.clear();
        let mut turns = session.turns;
        self.report = turns.pop().unwrap_or_default();
        self.earlier = turns.iter().map(PastTurn::from).collect();
        let count = turns.len() + usize::from(!self.report.question.is_empty());
        self.recorder = self
            .saving
            .as_ref()
            .map(|s| Recorder::append(path, count, s.on_error.clone()));
        self._lock = lock;
        Ok(())
    }

    /// Finds, locks and continues the saved session `id` (`last` for the
    /// latest); see [`Self::continue_session`].
    pub fn continue_saved(&mut self, id: &str, own_seats: bool) -> Result<(), String> {
        let dir = session::sessions_dir().ok_or("no data dir: HOME is not set")?;
        let path = session::find(&dir, id)?;
        let lock = SessionLock::take(&path)?;
        let loaded = session::load(&path).map_err(|e| e.to_string())?;
        self.continue_session(&path, loaded, own_seats, Some(lock))
            .map_err(|e| e.to_string())
    }

    /// The next question starts afresh: no earlier turns, a new session.
    pub(crate) fn start_anew(&mut self) {
        self.cancel();
        self.options.attachments.clear();
        self.earlier.clear();
        self.report = RunReport::default();
        self.recorder = None;
        self._lock = None;
    }

    /// The most a run of `question` may cost with the seats as they are and
    /// the conversation so far as context (the TUI asks on every key: the
    /// plan is borrowed, not copied). A council given connected has none.
    pub(crate) fn estimate(&mut self, question: &str, prices: &Prices) -> Option<CostEstimate> {
        self.plan_mut().ok()?;
        let prompt = self.context_prompt(question);
        Some(prices.estimate(self.resolved_plan()?, &prompt))
    }

    /// The most a run of `question` may cost, at the providers' prices
    /// (gathered whatever the cap; from the disk cache when fresh). None
    /// when the council cannot be built (a key missing, say).
    pub async fn estimate_priced(&mut self, question: &str) -> Option<CostEstimate> {
        let council = self.council().ok()?;
        let prices = Prices::gather(&council).await;
        self.estimate(question, &prices)
    }

    /// What the members read of a question, earlier turns included, as the
    /// budget counts it.
    fn context_prompt(&self, question: &str) -> String {
        let mut prompt = question.to_string();
        for turn in &self.earlier {
            prompt.push_str(&turn.question);
            prompt.push_str(&turn.synthesis);
        }
        prompt
    }

    /// Asks a question: a new turn of the conversation. A run whose
    /// estimate is over the cap is refused; otherwise the note on the
    /// estimate (when a cap is set) is returned for the front to show.
    pub fn ask(
        &mut self,
        question: &str,
        attachments: Vec<Attachment>,
        prices: &Prices,
    ) -> Result<Option<String>, Refusal> {
        if self.running() {
            return Err(Refusal::Busy);
        }
        let council = self.council()?;
        let plan = CouncilPlan::from(&council);
        let note = match council.limits.max_cost {
            Some(cap) => {
                let prompt = self.context_prompt(&with_attachments(question, &attachments));
                Some(
                    prices
                        .check(&plan, &prompt, cap)
                        .map_err(Refusal::OverBudget)?,
                )
            }
            None => None,
        };
        // The turn on hand becomes an earlier one.
        if !self.report.question.is_empty() {
            self.earlier.push(PastTurn::from(&self.report));
        }
        self.options.attachments = attachments;
        if self.recorder.is_none()
            && let Some(s) = &self.saving
        {
            let origin = s.origin.as_deref();
            self.recorder = Some(Recorder::start(&s.dir, plan, origin, s.on_error.clone()));
        }
        self.start(
            council,
            question.to_string(),
            RunScope::Full,
            Basis::default(),
        );
        Ok(note)
    }

    /// Runs members of the turn on hand again, alone, in the round shown:
    /// past the first round each is asked that round's request again.
    pub fn rerun(&mut self, members: Vec<usize>) -> Result<(), Refusal> {
        let basis = Basis::rerun(&self.report);
        self.again(RunScope::Members(members), basis)
    }

    /// The judge and the synthesis again, over the answers members have.
    pub fn rejudge(&mut self) -> Result<(), Refusal> {
        let basis = Basis::of(&self.report);
        self.again(RunScope::Judgement, basis)
    }

    /// One more round: every member with an answer revises it, or, for a
    /// dispute, the members it involves answer it; then judge and synthesis.
    pub fn round(&mut self, dispute: Option<Contradiction>) -> Result<(), Refusal> {
        let basis = Basis {
            dispute,
            ..Basis::of(&self.report)
        };
        self.again(RunScope::Round, basis)
    }

    /// A partial run of the turn on hand.
    fn again(&mut self, scope: RunScope, basis: Basis) -> Result<(), Refusal> {
        if self.running() {
            return Err(Refusal::Busy);
        }
        if self.report.question.is_empty() {
            return Err(Refusal::Nothing("ask a question first"));
        }
        let council = self.council()?;
        let question = self.report.question.clone();
        self.start(council, question, scope, basis);
        Ok(())
    }

    fn start(&mut self, council: Council, question: String, scope: RunScope, basis: Basis) {
        let mut options = self.options.clone();
        options.panel_only |= self.solo_alone && council.members.len() == 1;
        options.history = self.earlier.clone();
        let handle = crate::engine::run_scoped(council, question, options, scope, basis);
        self.canceller = Some(handle.canceller());
        self.events = Some(handle.events);
    }

    /// The next event of the run in progress, folded into the report and
    /// recorded; `None` once the run has ended (or when none runs).
    pub async fn next(&mut self) -> Option<CouncilEvent> {
        if self.unread.is_empty() {
            // A burst is recorded in one hand-over, and folded as each event
            // is handed out (a front reads the report as of its event).
            let mut batch = Vec::new();
            if self.events.as_mut()?.recv_many(&mut batch, BATCH).await == 0 {
                self.events = None;
                return None;
            }
            self.record(&batch);
            self.unread.extend(batch);
        }
        let event = self.unread.pop_front()?;
        self.report.apply(&event);
        Some(event)
    }

    /// Up to `limit` events at once (a burst of tokens is one batch),
    /// appended to `batch`, folded and recorded; 0 once the run has ended.
    /// Pends while no run is in progress, so a front's loop can always
    /// wait on it.
    pub(crate) async fn recv_many(&mut self, batch: &mut Vec<CouncilEvent>, limit: usize) -> usize {
        let from = batch.len();
        if self.unread.is_empty() {
            let Some(events) = self.events.as_mut() else {
                return std::future::pending().await;
            };
            if events.recv_many(batch, limit).await == 0 {
                self.events = None;
                return 0;
            }
            self.record(&batch[from..]);
        } else {
            // Left by `next`: already recorded.
            batch.extend(self.unread.drain(..));
        }
        for event in &batch[from..] {
            self.report.apply(event);
        }
        batch.len() - from
    }

    /// Reads the run in progress to its end, handing each event (folded
    /// and recorded) to `each` with the report so far. When `stop`
    /// resolves first, the run is cancelled and its last events still read.
    pub(crate) async fn run_to_end(
        &mut self,
        stop: impl Future<Output = ()>,
        mut each: impl FnMut(&CouncilEvent, &RunReport),
    ) {
        let mut stop = std::pin::pin!(stop);
        let mut stopped = false;
        loop {
            tokio::select! {
                event = self.next() => match event {
                    Some(event) => each(&event, &self.report),
                    None => break,
                },
                () = &mut stop, if !stopped => {
                    stopped = true;
                    self.cancel();
                }
            }
        }
    }

    /// One hand-over per batch: waking the writer per token costs more than
    /// the fold.
    fn record(&self, events: &[CouncilEvent]) {
        if let Some(recorder) = &self.recorder {
            recorder.record_all(events.to_vec());
        }
    }

    /// A run is in progress (its events are not all read).
    pub(crate) fn running(&self) -> bool {
        self.events.is_some()
    }

    /// Cancels the run in progress; stages not yet started are skipped.
    pub fn cancel(&self) {
        if let Some(c) = &self.canceller {
            c.cancel();
        }
    }

    /// Cancels one member of the run in progress.
    pub(crate) fn cancel_member(&self, member: usize) {
        if let Some(c) = &self.canceller {
            c.cancel_member(member);
        }
    }

    /// The turn on hand, as folded so far.
    pub fn report(&self) -> &RunReport {
        &self.report
    }

    /// What the turn on hand has cost so far; never less within a turn.
    pub fn spent(&self) -> Usage {
        self.report.spent()
    }

    /// Where turns are saved, when they are.
    pub(crate) fn sessions_dir(&self) -> Option<&Path> {
        self.saving.as_ref().map(|s| s.dir.as_path())
    }

    /// The file of the session being written, if any.
    pub(crate) fn session_path(&self) -> Option<&Path> {
        self.recorder.as_ref().map(Recorder::path)
    }

    /// The session being written stops being written (it failed).
    pub(crate) fn stop_saving(&mut self) {
        self.recorder = None;
    }

    /// Waits (at most `wait`) for the session to reach the disk: its id when
    /// every event was saved, `None` when not saving, else why not. The
    /// conversation goes on, and later turns are saved in the same file.
    pub(crate) fn save(&self, wait: Duration) -> Option<Result<String, String>> {
        let recorder = self.recorder.as_ref()?;
        Some(recorder.sync(wait).then(|| recorder.id()).ok_or_else(|| {
            format!(
                "the session {} was not saved in time or stopped being saved",
                recorder.id()
            )
        }))
    }

    /// Ends the conversation's saving: everything recorded reaches the disk
    /// (waited for off the runtime, at most `wait`), then the session is
    /// unlocked; the session's id, or why it is not saved.
    pub async fn close(&mut self, wait: Duration) -> Option<Result<String, String>> {
        let recorder = self.recorder.take()?;
        let closed = tokio::task::spawn_blocking(move || recorder.close(wait)).await;
        self._lock = None;
        Some(closed.unwrap_or_else(|e| Err(format!("the session writer failed: {e}"))))
    }
}

/// Where a front hears that saving failed, as a function it can share.
pub fn on_error(f: impl Fn(String) + Send + Sync + 'static) -> session::OnError {
    Arc::new(f)
}
