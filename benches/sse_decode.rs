//! SSE decoding throughput: a long chat-completions stream, delivered in
//! network-sized reads, decoded into stream items.

use council::provider::ProviderError;
use council::provider::openai::sse::{StreamItem, decode};
use divan::counter::BytesCount;
use futures::StreamExt;

fn main() {
    divan::main();
}

/// `tokens` content chunks shaped like OpenRouter's, with a keep-alive
/// comment every 100 and the usage chunk and [DONE] at the end.
fn body(tokens: usize) -> Vec<u8> {
    let mut s = String::new();
    for i in 0..tokens {
        if i % 100 == 0 {
            s.push_str(": OPENROUTER PROCESSING\n\n");
        }
        s.push_str(&format!(
            "data: {{\"id\":\"gen-1732000000-abcdefghijklmnop\",\"provider\":\"Anthropic\",\"model\":\"anthropic/claude-opus-4\",\"object\":\"chat.completion.chunk\",\"created\":1732000000,\"choices\":[{{\"index\":0,\"delta\":{{\"role\":\"assistant\",\"content\":\" token{i}\"}},\"finish_reason\":null,\"native_finish_reason\":null,\"logprobs\":null}}]}}\n\n"
        ));
    }
    s.push_str("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":10000,\"cost\":0.1}}\n\n");
    s.push_str("data: [DONE]\n\n");
    s.into_bytes()
}

fn reads(body: &[u8], size: usize) -> Vec<Vec<u8>> {
    body.chunks(size).map(<[u8]>::to_vec).collect()
}

#[divan::bench(args = [16, 1400, 16384])]
fn decode_10k_tokens(bencher: divan::Bencher, read_size: usize) {
    let body = body(10_000);
    let len = body.len();
    bencher
        .counter(BytesCount::new(len))
        .with_inputs(|| reads(&body, read_size))
        .bench_values(|reads| {
            let stream = futures::stream::iter(reads.into_iter().map(Ok::<_, ProviderError>));
            let items: usize = futures::executor::block_on(
                decode(stream)
                    .filter(|i| std::future::ready(matches!(i, Ok(StreamItem::Chunk(_)))))
                    .count(),
            );
            assert_eq!(items, 10_001);
        });
}

/// One unterminated `data:` line of `mib` MiB in 8 KiB reads: the time
/// grows with the size (linear), and the line fails at the 16 MiB cap.
#[divan::bench(args = [4, 8, 15])]
fn unterminated_line_mib(bencher: divan::Bencher, mib: usize) {
    let mut body = b"data: ".to_vec();
    body.resize(mib << 20, b'x');
    bencher
        .counter(BytesCount::new(body.len()))
        .with_inputs(|| reads(&body, 8192))
        .bench_values(|reads| {
            let stream = futures::stream::iter(reads.into_iter().map(Ok::<_, ProviderError>));
            let items: usize = futures::executor::block_on(decode(stream).count());
            assert_eq!(
                items, 1,
                "the line, at the end of the body, as a malformed event"
            );
        });
}
