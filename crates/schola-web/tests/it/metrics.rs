//! The Prometheus endpoint: the numbers an operator looks at after some real traffic.

use crate::kit::*;

#[tokio::test]
async fn metrics_count_requests_by_route_and_sign_ins_by_outcome() {
    let s = Server::start_with_dropin("[web]\nmetrics_listen = [\"127.0.0.1:0\"]\n");
    assert!(s.metrics_url().starts_with("http://127.0.0.1:"));

    let c = s.client();
    assert_eq!(
        s.sign_in(&c, "joerg.mueller", "wrong-password")
            .await
            .status(),
        401
    );
    assert_eq!(
        s.sign_in(&c, "joerg.mueller", STUDENT_PW).await.status(),
        303
    );
    assert!(s.page(&c, "/").await.contains("Jörg Müller"));
    // made-up paths are counted, but never as labels of their own
    for n in 0..5 {
        let r = c
            .get(s.url(&format!("/no/such/page-{n}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
    }
    // the metrics are not on the public HTTPS listener
    assert_eq!(c.get(s.url("/metrics")).send().await.unwrap().status(), 404);

    let m = s.scrape().await;
    let get = |series: &str| metric(&m, series).unwrap_or_else(|| panic!("no {series} in\n{m}"));
    assert_eq!(get(r#"schola_signins_total{outcome="success"}"#), 1.0);
    assert_eq!(get(r#"schola_signins_total{outcome="failure"}"#), 1.0);
    assert_eq!(
        get(r#"schola_http_requests_total{route="/login",method="GET",status="200"}"#),
        2.0
    );
    assert_eq!(
        get(r#"schola_http_requests_total{route="/login",method="POST",status="303"}"#),
        1.0
    );
    assert_eq!(
        get(r#"schola_http_requests_total{route="/",method="GET",status="200"}"#),
        1.0
    );
    assert_eq!(
        get(r#"schola_http_requests_total{route="unmatched",method="GET",status="404"}"#),
        6.0
    );
    assert!(!m.contains("page-3"), "a raw path became a label:\n{m}");
    assert_eq!(
        get(r#"schola_http_request_duration_seconds_count{route="/login"}"#),
        4.0
    );
    assert_eq!(
        get(r#"schola_http_request_duration_seconds_bucket{le="+Inf",route="/login"}"#),
        4.0
    );
    // every request above went through the waiting room: 2 forms, 2 sign-ins, the start page,
    // 5 made-up paths and /metrics
    assert_eq!(get("schola_waiting_room_admitted_total"), 11.0);
    assert_eq!(get("schola_waiting_room_turned_away_total"), 0.0);
    assert_eq!(get("schola_signin_queue_depth"), 0.0);
    assert!(get("schola_signin_queue_capacity") >= 64.0);
    // the browser's keep-alive connection is still open
    assert_eq!(get("schola_connections_open"), 1.0);
    assert_eq!(get("schola_connection_clients"), 1.0);
    assert!(m.ends_with("# EOF\n"));
}

#[tokio::test]
async fn metrics_listener_is_off_in_the_dev_profile_unless_set() {
    let s = Server::start("");
    assert!(
        !s.log.lock().unwrap().contains("metrics on"),
        "{}",
        s.log.lock().unwrap()
    );
}

#[tokio::test]
async fn a_metrics_port_in_use_does_not_stop_the_portal() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let s = Server::start_with_dropin(&format!("[web]\nmetrics_listen = [\"127.0.0.1:{port}\"]\n"));
    assert_eq!(s.page(&s.client(), "/healthz").await, "ok");
    let log = s.log.lock().unwrap().clone();
    assert!(
        log.contains("metrics are not served") && log.contains(&format!("127.0.0.1:{port}")),
        "{log}"
    );
}
