//! The streaming client against a scripted server on a real socket.

mod support;

use std::time::{Duration, Instant};

use council::provider::openai::{ApiKey, OpenAiConfig, OpenAiProvider};
use council::provider::{
    ChatRequest, Completion, Delta, ErrorKind, Message, Provider, ProviderError, RetryPolicy,
    Timeouts, Usage,
};
use support::{Reply, Server, Step, content, done, finish, reasoning, usage};
use tokio_util::sync::CancellationToken;

fn client(server: &Server, tweak: impl FnOnce(&mut OpenAiConfig)) -> OpenAiProvider {
    let mut config = OpenAiConfig::new("test", server.base_url.clone());
    config.retry = RetryPolicy {
        max_retries: 2,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
    };
    config.timeouts = Timeouts {
        connect: Duration::from_secs(2),
        first_byte: Duration::from_secs(5),
        idle: Duration::from_secs(5),
    };
    tweak(&mut config);
    OpenAiProvider::new(config).unwrap()
}

fn request() -> ChatRequest {
    ChatRequest {
        model: "test/model".into(),
        messages: vec![Message::user("Why is the sky blue?")],
        ..ChatRequest::default()
    }
}

struct Outcome {
    text: String,
    reasoning: String,
    result: Result<Completion, ProviderError>,
}

async fn chat(provider: &OpenAiProvider, cancel: CancellationToken) -> Outcome {
    let (mut text, mut reasoning) = (String::new(), String::new());
    let result = {
        let mut sink = |d: Delta| match d {
            Delta::Text(t) => text.push_str(&t),
            Delta::Reasoning(r) => reasoning.push_str(&r),
            // Retries are news, not text.
            Delta::Retrying { .. } => {}
        };
        provider.stream_chat(&request(), cancel, &mut sink).await
    };
    Outcome {
        text,
        reasoning,
        result,
    }
}

fn split(bytes: Vec<u8>, at: usize) -> [Step; 3] {
    let (a, b) = bytes.split_at(at);
    [
        Step::Write(a.to_vec()),
        Step::Sleep(Duration::from_millis(15)),
        Step::Write(b.to_vec()),
    ]
}

#[tokio::test]
async fn keepalive_comments_split_events_crlf_usage_and_done() {
    let server = Server::start(|_, _| {
        let mut steps = vec![
            Step::Write(b": OPENROUTER PROCESSING\n\n".to_vec()),
            Step::Sleep(Duration::from_millis(10)),
        ];
        steps.extend(split(content("Rayleigh "), 17));
        // An event with CRLF line endings, split inside the CRLF pair.
        let crlf = String::from_utf8(content("scattering"))
            .unwrap()
            .replace('\n', "\r\n")
            .into_bytes();
        let at = crlf.len() - 3;
        steps.extend(split(crlf, at));
        // A multi-byte character split across reads.
        let accented = content(" é");
        let at = accented.iter().position(|b| *b == 0xc3).unwrap() + 1;
        steps.extend(split(accented, at));
        steps.push(Step::Write(b": OPENROUTER PROCESSING\n\n".to_vec()));
        steps.push(Step::Write(finish("stop")));
        steps.push(Step::Write(usage(12, 3, Some(0.00042))));
        steps.push(Step::Write(done()));
        Reply::sse(steps)
    })
    .await;
    let out = chat(&client(&server, |_| {}), CancellationToken::new()).await;
    assert_eq!(out.text, "Rayleigh scattering é");
    let completion = out.result.unwrap();
    assert_eq!(completion.finish_reason.as_deref(), Some("stop"));
    assert_eq!(
        completion.usage,
        Usage {
            prompt_tokens: 12,
            completion_tokens: 3,
            cost: Some(0.00042)
        }
    );
    assert_eq!(completion.malformed_events, 0);
}

#[tokio::test]
async fn sends_stream_request_with_key_and_no_attribution_off_openrouter() {
    let server = Server::start(|_, _| Reply::text(&["ok"])).await;
    let provider = client(&server, |c| {
        c.api_key = ApiKey::new(Some("sk-test-123".into()))
    });
    let out = chat(&provider, CancellationToken::new()).await;
    assert_eq!(out.text, "ok");
    let r = &server.requests()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(r.header("authorization"), Some("Bearer sk-test-123"));
    assert_eq!(r.body["stream"], true);
    assert_eq!(r.body["model"], "test/model");
    assert_eq!(r.body["stream_options"]["include_usage"], true);
    assert_eq!(r.header("x-title"), None);
}

#[tokio::test]
async fn sends_openrouter_attribution_headers() {
    let server = Server::start(|_, _| Reply::text(&["ok"])).await;
    let provider = client(&server, |c| c.attribution = true);
    chat(&provider, CancellationToken::new())
        .await
        .result
        .unwrap();
    let r = &server.requests()[0];
    assert_eq!(r.header("x-title"), Some("council"));
    assert!(r.header("http-referer").is_some());
}

#[tokio::test]
async fn reasoning_is_kept_apart_from_the_answer() {
    let server = Server::start(|_, _| {
        Reply::sse(vec![
            Step::Write(reasoning("Light scatters ")),
            Step::Write(reasoning("by wavelength.")),
            Step::Write(content("Because of Rayleigh scattering.")),
            Step::Write(finish("stop")),
            Step::Write(done()),
        ])
    })
    .await;
    let out = chat(&client(&server, |_| {}), CancellationToken::new()).await;
    assert_eq!(out.reasoning, "Light scatters by wavelength.");
    assert_eq!(out.text, "Because of Rayleigh scattering.");
    assert!(out.result.is_ok());
}

#[tokio::test]
async fn malformed_lines_are_skipped_and_counted() {
    let server = Server::start(|_, _| {
        Reply::sse(vec![
            Step::Write(content("one ")),
            Step::Write(b"data: {\"choices\": [{\"delta\": {\"content\": \"trunc\n\n".to_vec()),
            Step::Write(b"data: not json at all\n\n".to_vec()),
            Step::Write(content("two")),
            Step::Write(finish("stop")),
            Step::Write(done()),
        ])
    })
    .await;
    let out = chat(&client(&server, |_| {}), CancellationToken::new()).await;
    assert_eq!(out.text, "one two");
    assert_eq!(out.result.unwrap().malformed_events, 2);
}

#[tokio::test]
async fn mid_stream_error_fails_and_keeps_the_text() {
    let server = Server::start(|_, _| {
        Reply::sse(vec![
            Step::Write(content("The answer is ")),
            Step::Write(
                br#"data: {"id":"gen-1","error":{"code":"server_error","message":"Provider disconnected unexpectedly"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}

"#
                .to_vec(),
            ),
            Step::Write(done()),
        ])
    })
    .await;
    let out = chat(&client(&server, |_| {}), CancellationToken::new()).await;
    assert_eq!(out.text, "The answer is ");
    let e = out.result.unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::Upstream {
            code: Some("server_error".into())
        }
    );
    assert_eq!(
        e.message,
        "upstream error (server_error): Provider disconnected unexpectedly"
    );
    assert_eq!(server.count(), 1, "no retry after tokens arrived");
}

#[tokio::test]
async fn connection_dropped_mid_stream_keeps_text_and_is_not_retried() {
    let server = Server::start(|_, _| {
        Reply::sse(vec![
            Step::Write(content("partial ")),
            Step::Write(content("answer")),
            Step::Drop,
        ])
    })
    .await;
    let out = chat(&client(&server, |_| {}), CancellationToken::new()).await;
    assert_eq!(out.text, "partial answer");
    let e = out.result.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Dropped);
    assert!(
        e.message.starts_with("connection lost mid-stream"),
        "{}",
        e.message
    );
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn stream_ending_without_finish_is_a_drop() {
    // A clean end of body, but no finish_reason and no [DONE].
    let server = Server::start(|_, _| Reply::sse(vec![Step::Write(content("half"))])).await;
    let out = chat(&client(&server, |_| {}), CancellationToken::new()).await;
    assert_eq!(out.text, "half");
    let e = out.result.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Dropped);
    assert_eq!(e.message, "connection closed before the stream finished");
}

#[tokio::test]
async fn server_error_is_retried_then_reported() {
    let server = Server::start(|_, _| {
        Reply::status(
            500,
            r#"{"error":{"message":"Internal Server Error","code":500}}"#,
        )
    })
    .await;
    let out = chat(&client(&server, |_| {}), CancellationToken::new()).await;
    let e = out.result.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Http { status: 500 });
    assert_eq!(e.message, "HTTP 500: server error (Internal Server Error)");
    assert_eq!(server.count(), 3, "one try and two retries");
    assert_eq!(out.text, "");
}

#[tokio::test]
async fn rate_limit_honours_retry_after_then_succeeds() {
    let server = Server::start(|_, i| {
        if i == 0 {
            Reply::status(
                429,
                r#"{"error":{"message":"Rate limit exceeded","code":429}}"#,
            )
            .header("Retry-After", "1")
        } else {
            Reply::text(&["after ", "waiting"])
        }
    })
    .await;
    let out = chat(
        &client(&server, |c| c.retry.max_delay = Duration::from_secs(5)),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(out.text, "after waiting");
    assert!(out.result.is_ok());
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let gap = requests[1].received - requests[0].received;
    assert!(
        gap >= Duration::from_millis(950),
        "retried after {gap:?}, before Retry-After"
    );
}

#[tokio::test]
async fn client_errors_are_not_retried_and_say_why() {
    for (status, body, expected) in [
        (
            400,
            r#"{"error":{"message":"max_tokens too large"}}"#,
            "HTTP 400: bad request (max_tokens too large)",
        ),
        (
            401,
            r#"{"error":{"message":"No auth credentials found","code":401}}"#,
            "HTTP 401: authentication failed: the API key in TEST_KEY is missing or invalid (No auth credentials found)",
        ),
        (
            402,
            r#"{"error":{"message":"Insufficient credits"}}"#,
            "HTTP 402: payment required: the account has no credits left (Insufficient credits)",
        ),
        (
            403,
            "",
            "HTTP 403: forbidden: the key may not use this model, or the input was flagged",
        ),
        (
            404,
            r#"{"error":{"message":"No endpoints found for test/model."}}"#,
            "HTTP 404: not found: unknown model `test/model` or wrong base URL (No endpoints found for test/model.)",
        ),
    ] {
        let server = Server::start(move |_, _| Reply::status(status, body)).await;
        let out = chat(
            &client(&server, |c| c.api_key_env = Some("TEST_KEY".into())),
            CancellationToken::new(),
        )
        .await;
        let e = out.result.unwrap_err();
        assert_eq!(e.message, expected);
        assert_eq!(server.count(), 1, "{status} is not retried");
    }
}

#[tokio::test]
async fn request_timeout_status_is_retried() {
    let server = Server::start(|_, i| {
        if i == 0 {
            Reply::status(408, "")
        } else {
            Reply::text(&["ok"])
        }
    })
    .await;
    let out = chat(&client(&server, |_| {}), CancellationToken::new()).await;
    assert_eq!(out.text, "ok");
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn slow_first_byte_times_out() {
    let server = Server::start(|_, _| Reply::text(&["late"]).delayed(Duration::from_secs(3))).await;
    let provider = client(&server, |c| {
        c.timeouts.first_byte = Duration::from_millis(300);
        c.retry = RetryPolicy::none();
    });
    let started = Instant::now();
    let out = chat(&provider, CancellationToken::new()).await;
    let e = out.result.unwrap_err();
    assert_eq!(e.kind, ErrorKind::FirstByteTimeout);
    assert_eq!(e.message, "no response within 0.3s (first-byte timeout)");
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// Before the first token, keep-alive comments wait within the first-byte
/// timeout (a model thinking); after it, only content is progress: silence
/// and comments alone stall alike.
#[tokio::test]
async fn keepalive_comments_wait_for_the_first_token_but_are_not_progress() {
    let comment = || Step::Write(b": OPENROUTER PROCESSING\n\n".to_vec());
    let pause = || Step::Sleep(Duration::from_millis(150));
    let server = Server::start(move |_, i| {
        if i == 0 {
            // 600 ms before the first token, with comments every 150 ms.
            Reply::sse(vec![
                comment(),
                pause(),
                comment(),
                pause(),
                comment(),
                pause(),
                comment(),
                pause(),
                Step::Write(content("thought")),
                Step::Write(finish("stop")),
                Step::Write(done()),
            ])
        } else if i == 1 {
            Reply::sse(vec![
                Step::Write(content("stalls")),
                Step::Sleep(Duration::from_secs(3)),
                Step::Write(done()),
            ])
        } else {
            Reply::sse(vec![
                Step::Write(content("then only comments")),
                Step::Forever(b": keep-alive\n\n".to_vec(), Duration::from_millis(100)),
            ])
        }
    })
    .await;
    let provider = client(&server, |c| {
        c.timeouts.idle = Duration::from_millis(400);
        c.retry = RetryPolicy::none();
    });
    let out = chat(&provider, CancellationToken::new()).await;
    assert_eq!(out.text, "thought");
    assert!(out.result.is_ok());

    let out = chat(&provider, CancellationToken::new()).await;
    assert_eq!(out.text, "stalls");
    let e = out.result.unwrap_err();
    assert_eq!(e.kind, ErrorKind::IdleTimeout);
    let stalled = "the stream stalled: no content for 0.4s (keep-alive comments do not count)";
    assert_eq!(e.message, stalled);

    let started = std::time::Instant::now();
    let out = chat(&provider, CancellationToken::new()).await;
    assert_eq!(out.text, "then only comments");
    let e = out.result.unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::IdleTimeout, stalled)
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn cancelling_stops_promptly_and_closes_the_connection() {
    let server = Server::start(|_, _| {
        let mut steps = Vec::new();
        for i in 0..200 {
            steps.push(Step::Write(content(&format!("t{i} "))));
            steps.push(Step::Sleep(Duration::from_millis(20)));
        }
        Reply::sse(steps)
    })
    .await;
    let provider = client(&server, |_| {});
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let out = chat(&provider, cancel).await;
    let cancelled_after = started.elapsed();
    assert!(out.result.unwrap_err().is_cancelled());
    assert!(
        cancelled_after < Duration::from_millis(600),
        "took {cancelled_after:?}"
    );
    assert!(out.text.starts_with("t0 t1 "));
    // The server notices the closed connection on its next writes.
    let deadline = Instant::now() + Duration::from_secs(3);
    while server.requests()[0].client_gone.is_none() {
        assert!(
            Instant::now() < deadline,
            "the connection stayed open after cancelling"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn lists_models() {
    let server = Server::start(|_, _| {
        Reply::status(
            200,
            r#"{"data":[{"id":"a/b","name":"A: B","context_length":128000,"pricing":{"prompt":"0.000001","completion":"0.000002"}},{"id":"local"}]}"#,
        )
    })
    .await;
    let models = client(&server, |_| {}).list_models().await.unwrap();
    assert_eq!(models.len(), 2);
    assert_eq!(models[0].context_length, Some(128000));
    assert_eq!(models[0].pricing.unwrap().completion, Some(0.000002));
    assert_eq!(models[1].id, "local");
    let r = &server.requests()[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/v1/models"));
}

#[tokio::test]
async fn connection_refused_is_a_clear_error() {
    // Bind then drop a listener to get a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = OpenAiConfig::new("test", format!("http://127.0.0.1:{port}/v1"));
    config.retry = RetryPolicy::none();
    let provider = OpenAiProvider::new(config).unwrap();
    let mut sink = |_d: Delta| {};
    let e = provider
        .stream_chat(&request(), CancellationToken::new(), &mut sink)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Connect);
    assert!(e.message.contains("Connection refused"), "{}", e.message);
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let server = Server::start(|_, i| {
        if i == 0 {
            let at = std::time::SystemTime::now() + Duration::from_secs(3);
            Reply::status(429, r#"{"error":{"message":"slow down"}}"#)
                .header("Retry-After", &httpdate::fmt_http_date(at))
        } else {
            Reply::text(&["ok"])
        }
    })
    .await;
    let provider = client(&server, |c| c.retry.max_delay = Duration::from_secs(10));
    let out = chat(&provider, CancellationToken::new()).await;
    assert_eq!(out.text, "ok");
    let requests = server.requests();
    let waited = requests[1].received - requests[0].received;
    // The date has a one-second resolution: at least two of the three seconds.
    assert!(waited >= Duration::from_secs(2), "retried after {waited:?}");
}

#[tokio::test]
async fn a_whole_json_completion_is_taken_as_one_chunk() {
    let server = Server::start(|_, _| {
        Reply::status(
            200,
            r#"{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Rayleigh scattering."},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3}}"#,
        )
    })
    .await;
    let out = chat(&client(&server, |_| {}), CancellationToken::new()).await;
    assert_eq!(out.text, "Rayleigh scattering.");
    let completion = out.result.unwrap();
    assert_eq!(completion.usage.prompt_tokens, 9);
    assert_eq!(completion.finish_reason.as_deref(), Some("stop"));
}

#[tokio::test]
async fn the_first_byte_timeout_bounds_every_try_together() {
    // Never answers: each try times out, yet the whole wait is the timeout.
    let server =
        Server::start(|_, _| Reply::text(&["late"]).delayed(Duration::from_secs(30))).await;
    let provider = client(&server, |c| {
        c.retry.max_retries = 4;
        c.timeouts.first_byte = Duration::from_secs(2);
    });
    let started = Instant::now();
    let out = chat(&provider, CancellationToken::new()).await;
    let took = started.elapsed();
    let e = out.result.unwrap_err();
    assert_eq!(e.kind, ErrorKind::FirstByteTimeout);
    assert!(
        e.message
            .starts_with("no response within 2s (first-byte timeout"),
        "{}",
        e.message
    );
    assert!(took < Duration::from_secs(4), "took {took:?}");
}

#[tokio::test]
async fn an_endless_event_fails_at_the_cap_and_keeps_the_text_before_it() {
    let server = Server::start(|_, _| {
        let mut steps = vec![Step::Write(content("kept "))];
        steps.push(Step::Write(b"data: ".to_vec()));
        for _ in 0..20 {
            steps.push(Step::Write(vec![b'x'; 1 << 20]));
        }
        Reply::sse(steps)
    })
    .await;
    let started = Instant::now();
    let out = chat(&client(&server, |_| {}), CancellationToken::new()).await;
    assert_eq!(out.text, "kept ");
    let e = out.result.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Protocol);
    assert!(
        e.message.starts_with("an event over 16 MiB"),
        "{}",
        e.message
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn bytes_that_are_not_utf8_become_replacement_characters() {
    let server = Server::start(|_, _| {
        let mut bad = content("caf\u{e9}");
        let at = bad.iter().position(|b| *b == 0xc3).unwrap();
        bad[at] = 0xff;
        Reply::sse(vec![
            Step::Write(bad),
            Step::Write(finish("stop")),
            Step::Write(done()),
        ])
    })
    .await;
    let out = chat(&client(&server, |_| {}), CancellationToken::new()).await;
    assert!(out.result.is_ok(), "{:?}", out.result);
    assert!(out.text.starts_with("caf\u{fffd}"), "{:?}", out.text);
}

#[tokio::test]
async fn a_gzip_encoded_stream_is_decoded() {
    use std::io::Write as _;
    let mut plain = content("Rayleigh ");
    plain.extend(content("scattering"));
    plain.extend(finish("stop"));
    plain.extend(done());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    let body = gz.finish().unwrap();
    let server = Server::start(move |_, _| {
        let (a, b) = body.split_at(body.len() / 2);
        Reply::sse(vec![Step::Write(a.to_vec()), Step::Write(b.to_vec())])
            .header("Content-Encoding", "gzip")
    })
    .await;
    let out = chat(&client(&server, |_| {}), CancellationToken::new()).await;
    assert!(out.result.is_ok(), "{:?}", out.result);
    assert_eq!(out.text, "Rayleigh scattering");
}
