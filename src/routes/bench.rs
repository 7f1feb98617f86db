//! Two routes that bound what verification can reach (see docs/benchmarks.md): a bare
//! JSON answer (the framework's ceiling) and the work no verification can avoid, one
//! Ed25519 check and one cache round trip. Served only with `YONGJUN_BENCH_ROUTES=1`,
//! and not part of the contract.

use actix_web::web;

use crate::http::State;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.route("/bench/hello", web::get().to(hello))
        .route("/bench/reference", web::post().to(reference));
}

async fn hello() -> web::Json<serde_json::Value> {
    web::Json(serde_json::json!({"hello": "world"}))
}

#[derive(serde::Deserialize)]
struct Token {
    token: String,
}

async fn reference(state: State, body: web::Json<Token>) -> web::Json<serde_json::Value> {
    let valid = match state.keys.qr.verify(&body.token) {
        Ok(claims) => state
            .cache
            .get(&crate::cache::keys::card(&claims.sub))
            .await
            .is_ok(),
        Err(_) => false,
    };
    web::Json(serde_json::json!({"valid": valid}))
}
