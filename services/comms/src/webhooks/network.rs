//! Where webhooks may be sent: never to loopback, private, link-local or otherwise internal
//! addresses (so a webhook cannot be aimed at the platform's own network), unless an allow-list
//! admits them. Checked when an endpoint is registered and again at every connection, through
//! the HTTP client's resolver, so a name that later resolves inward is refused too.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Networks admitted despite being internal, as `address/prefix` (`10.0.0.0/8`, `127.0.0.1/32`).
#[derive(Debug, Clone, Default)]
pub struct NetworkPolicy {
    allowed: Vec<(IpAddr, u8)>,
}

impl NetworkPolicy {
    pub fn new(allowed: &[String]) -> Result<Self, String> {
        let allowed = allowed
            .iter()
            .map(|net| {
                let (addr, prefix) = net.split_once('/').unwrap_or((net, ""));
                let addr: IpAddr = addr.trim().parse().map_err(|_| format!("{net:?} is not an address/prefix"))?;
                let max = if addr.is_ipv4() { 32 } else { 128 };
                let prefix = if prefix.is_empty() {
                    max
                } else {
                    prefix.parse().map_err(|_| format!("{net:?} has a bad prefix"))?
                };
                if prefix > max {
                    return Err(format!("{net:?} has a bad prefix"));
                }
                Ok((addr, prefix))
            })
            .collect::<Result<_, String>>()?;
        Ok(Self { allowed })
    }

    /// Whether webhooks may connect to `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        !is_internal(ip) || self.allowed.iter().any(|(net, prefix)| in_network(ip, *net, *prefix))
    }
}

fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || v4.octets()[0] == 0
                || (v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1]))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

fn in_network(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) };
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(prefix)) };
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// A resolver for the webhook client that drops addresses the policy refuses.
#[derive(Debug, Clone)]
pub struct FilteringResolver(pub Arc<NetworkPolicy>);

impl Resolve for FilteringResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.0);
        Box::pin(async move {
            let host = format!("{}:0", name.as_str());
            let all: Vec<SocketAddr> = tokio::net::lookup_host(host).await?.collect();
            let permitted: Vec<SocketAddr> = all.into_iter().filter(|a| policy.permits(a.ip())).collect();
            if permitted.is_empty() {
                return Err(format!("{} resolves only to addresses webhooks may not reach", name.as_str()).into());
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

/// Checks a URL for registration: http(s), a host, and (for an address literal or a name that
/// resolves now) nothing internal the policy refuses.
pub async fn check_url(raw: &str, policy: &NetworkPolicy) -> Result<url::Url, String> {
    let url = url::Url::parse(raw.trim()).map_err(|_| "must be an absolute http(s) URL".to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http or https URL".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials; use the signing secret".into());
    }
    let host = url.host_str().ok_or("must have a host")?.trim_start_matches('[').trim_end_matches(']').to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map(|a| a.map(|s| s.ip()).collect())
            .unwrap_or_default(),
    };
    if let Some(refused) = addrs.iter().find(|ip| !policy.permits(**ip)) {
        return Err(format!("points at {refused}, an internal address webhooks may not reach"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused_unless_allowed() {
        let strict = NetworkPolicy::default();
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!strict.permits(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(strict.permits(ip.parse().expect("ip")), "{ip}");
        }
        let allowing = NetworkPolicy::new(&["127.0.0.0/8".into(), "10.0.0.5".into()]).expect("valid");
        assert!(allowing.permits("127.0.0.1".parse().expect("ip")));
        assert!(allowing.permits("10.0.0.5".parse().expect("ip")));
        assert!(!allowing.permits("10.0.0.6".parse().expect("ip")));
        assert!(NetworkPolicy::new(&["10.0.0.0/33".into()]).is_err());
        assert!(NetworkPolicy::new(&["nonsense".into()]).is_err());
    }

    #[tokio::test]
    async fn registration_checks_scheme_credentials_and_addresses() {
        let strict = NetworkPolicy::default();
        assert!(check_url("ftp://example.com/", &strict).await.is_err());
        assert!(check_url("https://user:pw@example.com/", &strict).await.is_err());
        assert!(check_url("http://127.0.0.1:9/hook", &strict).await.is_err());
        assert!(check_url("http://[::1]/hook", &strict).await.is_err());
        assert!(check_url("http://169.254.169.254/latest/meta-data", &strict).await.is_err());
        assert!(check_url("not a url", &strict).await.is_err());
        assert!(check_url("https://93.184.216.34/hook", &strict).await.is_ok());
    }
}
