//! Any split of an SSE body into network reads decodes to the same items.

use council::provider::openai::sse::{StreamItem, decode};
use council::provider::{ErrorKind, ProviderError};
use futures::StreamExt;
use proptest::prelude::*;

/// A body with what real servers send: comments, CRLF and LF endings,
/// multi-byte text, reasoning, a malformed line, usage and [DONE].
fn body() -> Vec<u8> {
    let mut s = String::new();
    s.push_str(": OPENROUTER PROCESSING\n\n");
    s.push_str(
        "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"Grüße, \"}}]}\n\n",
    );
    s.push_str("data: {\"choices\":[{\"delta\":{\"reasoning\":\"think 漢字\"}}]}\r\n\r\n");
    s.push_str(": keep-alive\r\n\r\n");
    s.push_str("data: {\"choices\":[{\"delta\":{\"content\":\"world 🌍\"}}]}\r\n\r\n");
    s.push_str("data: {broken json\n\n");
    s.push_str("data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
    s.push_str("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4,\"cost\":0.5}}\n\n");
    s.push_str("data: [DONE]\n\n");
    s.into_bytes()
}

fn decode_reads(reads: Vec<Vec<u8>>) -> Vec<StreamItem> {
    let stream = futures::stream::iter(reads.into_iter().map(Ok::<_, ProviderError>));
    futures::executor::block_on(
        decode(stream)
            .map(|r| r.expect("no transport errors"))
            .collect(),
    )
}

fn split_at(bytes: &[u8], mut cuts: Vec<usize>) -> Vec<Vec<u8>> {
    cuts.sort_unstable();
    cuts.dedup();
    let mut reads = Vec::new();
    let mut start = 0;
    for cut in cuts {
        reads.push(bytes[start..cut].to_vec());
        start = cut;
    }
    reads.push(bytes[start..].to_vec());
    reads
}

#[test]
fn whole_body_decodes_to_the_expected_items() {
    let items = decode_reads(vec![body()]);
    assert_eq!(items.len(), 7, "{items:?}");
    assert!(matches!(&items[0], StreamItem::Chunk(c) if c.text.as_deref() == Some("Grüße, ")));
    assert!(
        matches!(&items[1], StreamItem::Chunk(c) if c.reasoning.as_deref() == Some("think 漢字"))
    );
    assert!(matches!(&items[2], StreamItem::Chunk(c) if c.text.as_deref() == Some("world 🌍")));
    assert_eq!(items[3], StreamItem::Malformed);
    assert!(
        matches!(&items[4], StreamItem::Chunk(c) if c.finish_reason.as_deref() == Some("stop"))
    );
    assert!(
        matches!(&items[5], StreamItem::Chunk(c) if c.usage.map(|u| u.completion_tokens) == Some(4))
    );
    assert_eq!(items[6], StreamItem::Done);
}

#[test]
fn byte_at_a_time_decodes_the_same() {
    let body = body();
    let reads: Vec<Vec<u8>> = body.iter().map(|b| vec![*b]).collect();
    assert_eq!(decode_reads(reads), decode_reads(vec![body]));
}

#[test]
fn transport_errors_end_the_stream_as_errors() {
    let reads = vec![
        Ok(b"data: {\"choices\":[]}\n\n".to_vec()),
        Err(ProviderError::new(ErrorKind::Dropped, "gone")),
    ];
    let items: Vec<_> = futures::executor::block_on(decode(futures::stream::iter(reads)).collect());
    assert!(matches!(items[0], Ok(StreamItem::Chunk(_))));
    assert_eq!(items[1].as_ref().unwrap_err().message, "gone");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn any_split_decodes_the_same(cuts in prop::collection::vec(0usize..1000, 0..40)) {
        let body = body();
        let cuts: Vec<usize> = cuts.into_iter().map(|c| c % body.len()).collect();
        prop_assert_eq!(decode_reads(split_at(&body, cuts)), decode_reads(vec![body]));
    }
}
