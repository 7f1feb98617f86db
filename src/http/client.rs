//! Who the client is: [`ClientAddr`], the one place a request's client address is
//! worked out. The use cases that count failed attempts (sign-in, activation, refresh)
//! take it as a plain [`IpAddr`].

use std::future::{ready, Ready};
use std::net::{IpAddr, Ipv4Addr};

use actix_web::{web, FromRequest, HttpRequest};

use crate::domain::network::TrustedProxies;
use crate::error::AppError;

/// The client's address: the TCP peer, or, when the peer is one of
/// `YONGJUN_TRUSTED_PROXIES`, the first address of `X-Forwarded-For` counted from the
/// right that is not a trusted proxy (see [`TrustedProxies::client`]). Without trusted
/// proxies the header is ignored, so a client cannot choose its own address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    pub fn of(req: &HttpRequest) -> ClientAddr {
        // No peer (not a TCP connection): every such request shares one address.
        let peer = req
            .peer_addr()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.ip());
        let Some(trusted) = req.app_data::<web::Data<TrustedProxies>>() else {
            return ClientAddr(peer.to_canonical());
        };
        let lines: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            // A line that is not text ends the walk there, as an entry that is no
            // address does.
            .map(|v| v.to_str().unwrap_or("?"))
            .collect();
        ClientAddr(trusted.client(peer, lines.iter().flat_map(|l| l.split(','))))
    }
}

impl FromRequest for ClientAddr {
    type Error = AppError;
    type Future = Ready<Result<ClientAddr, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(Ok(ClientAddr::of(req)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn proxies(list: &str) -> web::Data<TrustedProxies> {
        web::Data::new(list.parse().unwrap())
    }

    #[test]
    fn the_peer_is_the_client_unless_it_is_a_trusted_proxy() {
        let peer = "10.0.0.2:5555".parse().unwrap();
        let request = || {
            TestRequest::default()
                .peer_addr(peer)
                .insert_header(("X-Forwarded-For", "1.2.3.4, 203.0.113.7"))
        };
        let untrusted = request().to_http_request();
        assert_eq!(
            ClientAddr::of(&untrusted).0,
            "10.0.0.2".parse::<IpAddr>().unwrap()
        );
        let elsewhere = request()
            .app_data(proxies("192.168.0.0/16"))
            .to_http_request();
        assert_eq!(
            ClientAddr::of(&elsewhere).0,
            "10.0.0.2".parse::<IpAddr>().unwrap()
        );
        let trusted = request().app_data(proxies("10.0.0.0/8")).to_http_request();
        assert_eq!(
            ClientAddr::of(&trusted).0,
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn every_forwarded_for_line_is_read_in_order() {
        let request = TestRequest::default()
            .peer_addr("10.0.0.2:5555".parse().unwrap())
            .app_data(proxies("10.0.0.0/8"))
            .append_header(("X-Forwarded-For", "1.2.3.4"))
            .append_header(("X-Forwarded-For", "203.0.113.9, 10.0.0.3"))
            .to_http_request();
        assert_eq!(
            ClientAddr::of(&request).0,
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
    }
}
