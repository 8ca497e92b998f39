//! Arbitrary input never panics: the SSE decoder (any bytes, split
//! anywhere), the judge's parser (any text, and JSON-looking text), and the
//! session loader (any file after a valid header). Sizes stay bounded: the
//! decoder yields at most one item per event separator, and the loader
//! never makes more turns than the file has lines.

use council::engine::judge::{LabelMap, parse_analysis};
use council::provider::ProviderError;
use council::provider::openai::sse::decode;
use futures::StreamExt;
use proptest::prelude::*;

fn labels() -> LabelMap {
    LabelMap::shuffled(&[(0, "alpha".into()), (1, "beta".into())], 1)
}

/// Bytes shaped like SSE often enough to reach the interesting paths.
fn sse_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"data: ".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b": comment\n".to_vec()),
        Just(br#"{"choices":[{"delta":{"content":"x"}}]}"#.to_vec()),
        Just(b"[DONE]".to_vec()),
        Just(b"\xc3".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..32),
    ];
    proptest::collection::vec(piece, 0..64).prop_map(|v| v.concat())
}

proptest! {
    // 512 cases in the suite; `COUNCIL_FUZZ_CASES=20000` (`make fuzz`) for a longer run.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("COUNCIL_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(512)
    ))]

    #[test]
    fn the_sse_decoder_takes_any_bytes_split_anywhere(body in sse_bytes(), cuts in proptest::collection::vec(any::<usize>(), 0..8)) {
        let mut at: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
        at.push(0);
        at.push(body.len());
        at.sort_unstable();
        let reads: Vec<Vec<u8>> = at.windows(2).map(|w| body[w[0]..w[1]].to_vec()).collect();
        let stream = futures::stream::iter(reads.into_iter().map(Ok::<_, ProviderError>));
        let items = futures::executor::block_on(decode(stream).collect::<Vec<_>>());
        let separators = body.iter().filter(|b| **b == b'\n' || **b == b'\r').count();
        prop_assert!(items.len() <= separators + 1);
    }

    #[test]
    fn the_judge_parser_takes_any_text(raw in ".{0,400}") {
        let _ = parse_analysis(&raw, &labels());
    }

    #[test]
    fn the_judge_parser_takes_any_json_shape(raw in r#"\{("(consensus|contradictions|blind_spots|labels|quotes|stances|point|topic)"|[0-9]+|\[|\]|\{|\}|,|:|"A"|"Response Z"|null|true| )*"#) {
        let _ = parse_analysis(&raw, &labels());
    }

    #[test]
    fn the_session_loader_takes_any_lines_after_a_header(lines in proptest::collection::vec(
        prop_oneof![
            Just(r#"{"turn":0,"event":{"type":"member_started","member":0}}"#.to_string()),
            Just(r#"{"turn":4294967295,"event":{"type":"member_started","member":0}}"#.to_string()),
            Just(r#"{"turn":1,"event":{"type":"member_delta","member":9,"text":"x"}}"#.to_string()),
            ".{0,60}",
        ],
        0..20,
    )) {
        let dir = std::env::temp_dir().join(format!("council-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}.jsonl", rand_name(&lines)));
        std::fs::write(&path, format!("{HEADER}\n{}\n", lines.join("\n"))).unwrap();
        if let Ok(session) = council::session::load(&path) {
            prop_assert!(session.turns.len() <= lines.len());
        }
        let _ = std::fs::remove_file(&path);
    }
}

const HEADER: &str = r#"{"format":"council-session","version":1,"id":"x","created":"2026-11-23T08:00:00Z","council":{"preset":null,"members":[],"judge":{"name":"j","model":"j","provider":"p"},"synthesizer":{"name":"s","model":"s","provider":"p"}}}"#;

/// The header the property uses is a valid one, so the lines after it are
/// what is exercised.
#[test]
fn the_fuzzed_sessions_start_with_a_valid_header() {
    let path =
        std::env::temp_dir().join(format!("council-fuzz-header-{}.jsonl", std::process::id()));
    let record = r#"{"turn":0,"event":{"type":"member_started","member":0}}"#;
    std::fs::write(&path, format!("{HEADER}\n{record}\n")).unwrap();
    let session = council::session::load(&path).unwrap();
    assert_eq!(session.turns.len(), 1);
    std::fs::remove_file(&path).unwrap();
}

fn rand_name(lines: &[String]) -> u64 {
    lines.iter().fold(0xcbf29ce484222325u64, |h, l| {
        l.bytes()
            .fold(h, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3))
    })
}
