//! The in-process llama.cpp engine. Each model file gets one thread that owns
//! the loaded model and one context with a sequence per request: every step
//! decodes one batch holding a token of each generating sequence (and chunks
//! of new prompts), so members that share a model share the matrix work.

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::sync::{Mutex, OnceLock};

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;

use super::{Job, JobEvent};
use crate::provider::{Message, Role};

/// Sequences decoded together in one context.
pub const MAX_SEQUENCES: usize = 8;
/// Tokens in one decode call.
const BATCH: usize = 512;
/// The context's size, shared by its sequences, unless the model's is smaller.
const MAX_CONTEXT: u32 = 8192;
/// Output tokens when a request sets no limit.
const DEFAULT_MAX_TOKENS: u32 = 512;

/// A model's engine thread; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    jobs: Sender<Job>,
}

impl Engine {
    /// Hands a job to the engine; when the thread has gone, the job fails.
    pub fn submit(&self, job: Job) {
        if let Err(e) = self.jobs.send(job) {
            let _ =
                e.0.events
                    .send(JobEvent::Failed("the local engine has stopped".into()));
        }
    }
}

/// The engine for `path`, started on first use and kept for the process's
/// life, so later runs (a re-run, a follow-up) skip loading.
pub fn shared(path: &Path) -> Result<Engine, String> {
    static ENGINES: OnceLock<Mutex<HashMap<PathBuf, Engine>>> = OnceLock::new();
    let mut engines = ENGINES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(engine) = engines.get(path) {
        return Ok(engine.clone());
    }
    let engine = start(path)?;
    engines.insert(path.to_path_buf(), engine.clone());
    Ok(engine)
}

/// A new engine thread of its own for `path` (the model loads on it, before
/// the first job). [`shared`] is what providers use; this is for comparing.
pub fn start(path: &Path) -> Result<Engine, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let owned = path.to_path_buf();
    std::thread::Builder::new()
        .name("council-llama".into())
        .spawn(move || run(&owned, rx))
        .map_err(|e| format!("cannot start the local engine: {e}"))?;
    Ok(Engine { jobs: tx })
}

/// llama.cpp's backend may be initialised once per process; its own logging
/// is silenced, since it would write over the TUI.
fn backend() -> Result<&'static LlamaBackend, String> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            let mut b = LlamaBackend::init().map_err(|e| e.to_string())?;
            b.void_logs();
            Ok(b)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Threads for decoding: `$COUNCIL_THREADS`, or every core. Decoding is
/// compute-bound and the UI and the network wait on it meanwhile: on two
/// cores a second thread made an offline council's stages 1.5-1.9x faster
/// (a 1,013-token prompt: 14.0 s to its first token with one, 7.6 s with
/// two).
pub fn threads() -> i32 {
    if let Some(n) = std::env::var("COUNCIL_THREADS")
        .ok()
        .and_then(|v| v.parse::<i32>().ok())
        .filter(|n| *n > 0)
    {
        return n;
    }
    std::thread::available_parallelism().map_or(2, |n| n.get()) as i32
}

fn run(path: &Path, jobs: Receiver<Job>) {
    let loaded = backend().and_then(|backend| {
        let model = LlamaModel::load_from_file(backend, path, &LlamaModelParams::default())
            .map_err(|e| format!("cannot load {}: {e}", path.display()))?;
        Ok((backend, model))
    });
    let (backend, model) = match loaded {
        Ok(x) => x,
        Err(e) => {
            // Answer every job with the reason, for as long as anyone asks.
            for job in jobs {
                let _ = job.events.send(JobEvent::Failed(e.clone()));
            }
            return;
        }
    };
    let n_ctx = model.n_ctx_train().clamp(512, MAX_CONTEXT);
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(n_ctx))
        .with_n_batch(BATCH as u32)
        .with_n_ubatch(BATCH as u32)
        .with_n_seq_max(MAX_SEQUENCES as u32)
        .with_kv_unified(true)
        .with_n_threads(threads())
        .with_n_threads_batch(threads());
    let mut ctx = match model.new_context(backend, params) {
        Ok(ctx) => ctx,
        Err(e) => {
            let e = format!("cannot create a context for {}: {e}", path.display());
            for job in jobs {
                let _ = job.events.send(JobEvent::Failed(e.clone()));
            }
            return;
        }
    };
    Scheduler {
        model: &model,
        n_ctx,
        waiting: VecDeque::new(),
        active: Vec::new(),
    }
    .run(&mut ctx, &jobs);
}

/// One request being decoded.
struct Sequence {
    id: i32,
    job: Job,
    sampler: LlamaSampler,
    /// The JSON schema's grammar, checked after sampling (see [`pick`]).
    grammar: Option<LlamaSampler>,
    prompt: Vec<LlamaToken>,
    /// Prompt tokens already in the KV cache.
    fed: usize,
    /// The next position in this sequence.
    pos: i32,
    /// The token sampled last, to be fed next.
    last: Option<LlamaToken>,
    /// This sequence's row in the current batch's logits.
    logits_at: Option<i32>,
    generated: u32,
    max_tokens: u32,
    /// Bytes of a UTF-8 character split across tokens.
    pending: Vec<u8>,
}

struct Scheduler<'m> {
    model: &'m LlamaModel,
    n_ctx: u32,
    waiting: VecDeque<Job>,
    active: Vec<Sequence>,
}

impl Scheduler<'_> {
    fn run(mut self, ctx: &mut LlamaContext<'_>, jobs: &Receiver<Job>) {
        let mut batch = LlamaBatch::new(BATCH, 1);
        loop {
            if self.active.is_empty() && self.waiting.is_empty() {
                match jobs.recv() {
                    Ok(job) => self.waiting.push_back(job),
                    Err(_) => return,
                }
            }
            loop {
                match jobs.try_recv() {
                    Ok(job) => self.waiting.push_back(job),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) if self.busy() => break,
                    Err(TryRecvError::Disconnected) => return,
                }
            }
            self.admit(ctx);
            self.drop_abandoned(ctx);
            if self.active.is_empty() {
                continue;
            }
            self.fill(&mut batch);
            if let Err(e) = ctx.decode(&mut batch) {
                let message = format!(
                    "the local model's context ({} tokens shared by {} requests) is full: {e}",
                    self.n_ctx,
                    self.active.len()
                );
                for seq in self.active.drain(..) {
                    let _ = ctx.clear_kv_cache_seq(Some(seq.id as u32), None, None);
                    let _ = seq.job.events.send(JobEvent::Failed(message.clone()));
                }
                continue;
            }
            self.sample(ctx);
        }
    }

    fn busy(&self) -> bool {
        !self.active.is_empty() || !self.waiting.is_empty()
    }

    /// Starts waiting jobs while sequence slots are free.
    fn admit(&mut self, ctx: &mut LlamaContext<'_>) {
        if self.active.is_empty() && !self.waiting.is_empty() {
            // Nothing is decoding: the cache starts over, so new sequences
            // take its first cells and attend over no gaps left by finished
            // ones.
            ctx.clear_kv_cache();
        }
        while self.active.len() < MAX_SEQUENCES {
            let Some(job) = self.waiting.pop_front() else {
                return;
            };
            let id = (0..MAX_SEQUENCES as i32)
                .find(|id| self.active.iter().all(|s| s.id != *id))
                .expect("a free slot");
            match self.start(id, job) {
                Ok(seq) => self.active.push(seq),
                Err((job, e)) => {
                    let _ = job.events.send(JobEvent::Failed(e));
                }
            }
        }
    }

    fn start(&self, id: i32, job: Job) -> Result<Sequence, (Job, String)> {
        let prompt = match prompt_text(self.model, &job.messages) {
            Ok(p) => p,
            Err(e) => return Err((job, e)),
        };
        let tokens = self.model.vocab().tokenize(prompt.as_bytes(), true, true);
        let max_tokens = job.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS).max(1);
        let limit = self.n_ctx as usize;
        if tokens.len() + 1 >= limit {
            let e = format!(
                "the prompt is {} tokens; the local model's context holds {limit}",
                tokens.len()
            );
            return Err((job, e));
        }
        let (sampler, grammar) = match sampler(self.model, &job) {
            Ok(s) => s,
            Err(e) => return Err((job, e)),
        };
        let _ = job.events.send(JobEvent::Started {
            prompt_tokens: tokens.len() as u64,
        });
        Ok(Sequence {
            id,
            job,
            sampler,
            grammar,
            prompt: tokens,
            fed: 0,
            pos: 0,
            last: None,
            logits_at: None,
            generated: 0,
            max_tokens,
            pending: Vec::new(),
        })
    }

    /// Forgets sequences whose requester cancelled or went away.
    fn drop_abandoned(&mut self, ctx: &mut LlamaContext<'_>) {
        self.active.retain(|seq| {
            let gone = seq.job.cancel.is_cancelled() || seq.job.events.is_closed();
            if gone {
                let _ = ctx.clear_kv_cache_seq(Some(seq.id as u32), None, None);
            }
            !gone
        });
        self.waiting
            .retain(|job| !(job.cancel.is_cancelled() || job.events.is_closed()));
    }

    /// One token of each generating sequence first, then prompt chunks in the
    /// room left, so a long new prompt cannot stall the others.
    fn fill(&mut self, batch: &mut LlamaBatch) {
        batch.clear();
        let mut room = BATCH;
        for seq in &mut self.active {
            if let Some(token) = seq.last {
                batch
                    .add(token, seq.pos, &[seq.id], true)
                    .expect("room for one token per sequence");
                seq.logits_at = Some(batch.n_tokens() - 1);
                seq.pos += 1;
                room -= 1;
            }
        }
        for seq in &mut self.active {
            if seq.last.is_some() || room == 0 {
                continue;
            }
            let take = (seq.prompt.len() - seq.fed).min(room);
            for k in 0..take {
                let i = seq.fed + k;
                let is_last = i + 1 == seq.prompt.len();
                batch
                    .add(seq.prompt[i], seq.pos, &[seq.id], is_last)
                    .expect("counted room");
                seq.pos += 1;
                if is_last {
                    seq.logits_at = Some(batch.n_tokens() - 1);
                }
            }
            seq.fed += take;
            room -= take;
        }
    }

    /// Samples a token for every sequence that has logits in this batch.
    fn sample(&mut self, ctx: &mut LlamaContext<'_>) {
        let vocab = self.model.vocab();
        let n_ctx = self.n_ctx as i32;
        let mut finished: Vec<(usize, &'static str)> = Vec::new();
        for (k, seq) in self.active.iter_mut().enumerate() {
            let Some(row) = seq.logits_at.take() else {
                continue;
            };
            let token = pick(ctx, row, &mut seq.sampler, seq.grammar.as_mut(), &seq.job);
            if vocab.is_eog(token) {
                finished.push((k, "stop"));
                continue;
            }
            seq.generated += 1;
            seq.pending.extend(vocab.token_to_piece(token, false, None));
            if let Some(text) = take_utf8(&mut seq.pending) {
                let _ = seq.job.events.send(JobEvent::Text(text));
            }
            seq.last = Some(token);
            if seq.generated >= seq.max_tokens || seq.pos + 1 >= n_ctx {
                finished.push((k, "length"));
            }
        }
        for (k, reason) in finished.into_iter().rev() {
            let mut seq = self.active.remove(k);
            let _ = ctx.clear_kv_cache_seq(Some(seq.id as u32), None, None);
            if !seq.pending.is_empty() {
                let rest = String::from_utf8_lossy(&seq.pending).into_owned();
                seq.pending.clear();
                let _ = seq.job.events.send(JobEvent::Text(rest));
            }
            let _ = seq.job.events.send(JobEvent::Finished {
                prompt_tokens: seq.prompt.len() as u64,
                completion_tokens: u64::from(seq.generated),
                finish_reason: reason,
            });
        }
    }
}

/// Takes the longest complete UTF-8 prefix of `bytes`; invalid bytes become
/// U+FFFD rather than stalling the stream.
fn take_utf8(bytes: &mut Vec<u8>) -> Option<String> {
    let valid = match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        Err(e) if e.error_len().is_some() => bytes.len(),
        Err(e) => e.valid_up_to(),
    };
    if valid == 0 {
        return None;
    }
    let text = String::from_utf8_lossy(&bytes[..valid]).into_owned();
    bytes.drain(..valid);
    Some(text)
}

/// The prompt in the model's own chat template, or a plain transcript for
/// base models that have none.
fn prompt_text(model: &LlamaModel, messages: &[Message]) -> Result<String, String> {
    let role = |r: Role| match r {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
    };
    if let Ok(template) = model.chat_template(None) {
        let chat = messages
            .iter()
            .map(|m| LlamaChatMessage::new(role(m.role).into(), m.content.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("a message cannot be passed to the model: {e}"))?;
        if let Ok(prompt) = model.apply_chat_template(&template, &chat, true) {
            return Ok(prompt);
        }
    }
    let mut out = String::new();
    for m in messages {
        let name = match m.role {
            Role::System => "Instructions",
            Role::User => "Question",
            Role::Assistant => "Answer",
        };
        out.push_str(&format!("{name}:\n{}\n\n", m.content.trim()));
    }
    out.push_str("Answer:\n");
    Ok(out)
}

/// Candidates a greedy pick the grammar rejected walks through, best
/// first, before the grammar runs over the whole vocabulary.
const GREEDY_WALK: usize = 64;

/// A token for the logits at `row`: sampled by `chain`, then, with a
/// grammar, checked against it alone. A token it rejects makes the grammar
/// run over the whole vocabulary before sampling again (as llama.cpp's own
/// sampler does), except when decoding greedily: the greedy pick under the
/// grammar is the best-ranked token the grammar allows, so the ranked
/// candidates are checked one by one first. Most tokens a model picks are
/// allowed, so the grammar's cost is a few tokens', not the vocabulary's.
/// Greedy decoding picks the same tokens either way. Both samplers accept it.
fn pick(
    ctx: &LlamaContext<'_>,
    row: i32,
    chain: &mut LlamaSampler,
    grammar: Option<&mut LlamaSampler>,
    job: &Job,
) -> LlamaToken {
    let Some(grammar) = grammar else {
        // `sample` also accepts the token into the chain's state.
        return chain.sample(ctx, row);
    };
    let mut token = LlamaToken(0);
    let mut rejected = job.grammar_first;
    if !job.grammar_first {
        let mut all = ctx.token_data_array_ith(row);
        // The chain leaves its penalties in the logits and, when greedy,
        // does not reorder them.
        all.apply_sampler(chain);
        token = all.selected_token().unwrap_or(token);
        rejected = !allows(grammar, token);
        if rejected
            && greedy(job)
            && let Some(best) = best_allowed(&all.data, grammar)
        {
            token = best;
            rejected = false;
        }
    }
    if rejected {
        let mut all = ctx.token_data_array_ith(row);
        all.apply_sampler(grammar);
        all.apply_sampler(chain);
        token = all.selected_token().unwrap_or(token);
    }
    grammar.accept(token);
    chain.accept(token);
    token
}

fn greedy(job: &Job) -> bool {
    job.temperature.is_some_and(|t| t <= 0.0)
}

/// Whether the grammar allows `token` next.
fn allows(grammar: &mut LlamaSampler, token: LlamaToken) -> bool {
    let mut one = LlamaTokenDataArray::new(vec![LlamaTokenData::new(token, 1.0, 0.0)], false);
    one.apply_sampler(grammar);
    one.data[0].logit() != f32::NEG_INFINITY
}

/// The best of the [`GREEDY_WALK`] highest logits the grammar allows, in
/// greedy's order (highest logit, then lowest token id, as llama.cpp's
/// greedy sampler breaks ties); `None` when it allows none of them.
fn best_allowed(data: &[LlamaTokenData], grammar: &mut LlamaSampler) -> Option<LlamaToken> {
    let rank = |a: &LlamaTokenData, b: &LlamaTokenData| {
        b.logit()
            .total_cmp(&a.logit())
            .then(a.id().0.cmp(&b.id().0))
    };
    let mut top: Vec<LlamaTokenData> = data.to_vec();
    if top.len() > GREEDY_WALK {
        top.select_nth_unstable_by(GREEDY_WALK - 1, rank);
        top.truncate(GREEDY_WALK);
    }
    top.sort_unstable_by(rank);
    top.into_iter()
        .map(|d| d.id())
        .find(|t| allows(grammar, *t))
}

/// Sampling as llama.cpp's server does it by default, and greedy decoding
/// at temperature 0; with the grammar of the request's JSON schema, kept
/// apart (see [`pick`]).
fn sampler(model: &LlamaModel, job: &Job) -> Result<(LlamaSampler, Option<LlamaSampler>), String> {
    let grammar = match &job.grammar {
        Some(grammar) => Some(
            LlamaSampler::grammar(model, grammar, "root")
                .map_err(|e| format!("the JSON grammar was rejected: {e}"))?,
        ),
        None => None,
    };
    let mut chain = Vec::new();
    chain.push(LlamaSampler::penalties(model.n_vocab(), 64, 1.1, 0.0, 0.0));
    let temperature = job.temperature.unwrap_or(0.8);
    if temperature <= 0.0 {
        chain.push(LlamaSampler::greedy());
    } else {
        chain.extend([
            LlamaSampler::top_k(40),
            LlamaSampler::top_p(0.95, 1),
            LlamaSampler::min_p(0.05, 1),
            LlamaSampler::temp(temperature),
            LlamaSampler::dist(job.seed),
        ]);
    }
    Ok((LlamaSampler::chain_simple(chain), grammar))
}

/// A llama.cpp grammar (GBNF) for a JSON schema, as compact JSON: the
/// converter allows runs of newlines and indentation between tokens, which
/// small models fill instead of writing content.
pub fn grammar_for(schema: &serde_json::Value) -> Result<String, String> {
    let grammar = llama_cpp_2::json_schema_to_grammar(&schema.to_string())
        .map_err(|e| format!("cannot turn the JSON schema into a grammar: {e}"))?;
    Ok(grammar
        .lines()
        .map(|line| {
            if line.starts_with("space ::=") {
                "space ::= \" \"?"
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

#[cfg(test)]
mod tests {
    use super::take_utf8;

    #[test]
    fn split_characters_wait_for_their_last_byte() {
        let mut b = "é".as_bytes()[..1].to_vec();
        assert_eq!(take_utf8(&mut b), None);
        b.push("é".as_bytes()[1]);
        b.extend(b"!");
        assert_eq!(take_utf8(&mut b).as_deref(), Some("é!"));
        assert!(b.is_empty());
        let mut bad = vec![0xff, b'a'];
        assert_eq!(take_utf8(&mut bad).as_deref(), Some("\u{fffd}a"));
    }
}
