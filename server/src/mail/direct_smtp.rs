//! SMTP over connections hirelay opens itself, with `TCP_NODELAY`, for `smtp://` URLs (plain or
//! STARTTLS). lettre's pool opens its sockets without it and writes a mail's body and its final
//! `.` in two writes, so the `.` waited for the server's delayed acknowledgement of the body:
//! about 40 ms a mail, whatever the server. The conversation itself is still lettre's
//! ([`AsyncSmtpConnection`]); only the socket, and so the pool, are ours. `smtps://` (TLS from
//! the first byte) stays with lettre's pool.
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;

/// How a connection is encrypted: not at all, or by STARTTLS (required, or when offered).
#[derive(Clone)]
enum StartTls {
    No,
    Required(TlsParameters),
    Opportunistic(TlsParameters),
}

/// What an `smtp://[user:password@]host[:port][/hello-name][?tls=required|opportunistic]` URL
/// says, read as lettre reads it.
pub struct DirectSmtp {
    host: String,
    port: u16,
    tls: StartTls,
    credentials: Option<Credentials>,
    hello: ClientId,
    timeout: Duration,
    idle_timeout: Duration,
    /// Connections between mails, with when each was parked.
    idle: std::sync::Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
    /// At most this many connections open at once.
    slots: tokio::sync::Semaphore,
}

/// Why a URL is not one for [`DirectSmtp`]: `None` for another scheme (lettre's pool takes it).
pub fn parse(
    url: &str,
    connections: u32,
    timeout: Duration,
    idle_timeout: Duration,
) -> Option<Result<DirectSmtp, String>> {
    let parsed = match url::Url::parse(url) {
        Ok(parsed) => parsed,
        Err(e) => return Some(Err(e.to_string())),
    };
    if parsed.scheme() != "smtp" {
        return None;
    }
    Some(direct(&parsed, connections, timeout, idle_timeout))
}

fn direct(
    url: &url::Url,
    connections: u32,
    timeout: Duration,
    idle_timeout: Duration,
) -> Result<DirectSmtp, String> {
    let host = url.host_str().ok_or("the URL has no host")?.to_owned();
    let tls_param = url
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    let parameters = || TlsParameters::new(host.clone()).map_err(|e| e.to_string());
    let (tls, default_port) = match tls_param.as_deref() {
        None => (StartTls::No, 25),
        Some("required") => (StartTls::Required(parameters()?), 587),
        Some("opportunistic") => (StartTls::Opportunistic(parameters()?), 587),
        Some(other) => return Err(format!("unknown tls parameter `{other}`")),
    };
    let hello = match url.path().trim_matches('/') {
        "" => ClientId::default(),
        name => ClientId::Domain(name.to_owned()),
    };
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|e| e.to_string())
    };
    let credentials = match url.password() {
        Some(password) => Some(Credentials::new(decode(url.username())?, decode(password)?)),
        None => None,
    };
    Ok(DirectSmtp {
        port: url.port().unwrap_or(default_port),
        host,
        tls,
        credentials,
        hello,
        timeout,
        idle_timeout,
        idle: std::sync::Mutex::new(Vec::new()),
        slots: tokio::sync::Semaphore::new(connections.max(1) as usize),
    })
}

impl DirectSmtp {
    /// Sends `message` to `envelope`'s recipients over a pooled connection (a new one when
    /// none is idle, or the idle one no longer answers).
    pub async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), String> {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| "the SMTP pool is closed".to_owned())?;
        let mut connection = match self.parked() {
            Some(mut parked) => {
                if parked.test_connected().await {
                    parked
                } else {
                    parked.abort().await;
                    self.connect().await?
                }
            }
            None => self.connect().await?,
        };
        match connection.send(envelope, message).await {
            Ok(_) if !connection.has_broken() => {
                self.park(connection);
                Ok(())
            }
            Ok(_) => {
                connection.abort().await;
                Ok(())
            }
            Err(e) => {
                connection.abort().await;
                Err(e.to_string())
            }
        }
    }

    /// An idle connection, if one was parked within the idle timeout (older ones are closed).
    fn parked(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        // Older than the idle timeout: dropped (the server has likely closed them).
        idle.retain(|(_, at)| at.elapsed() < self.idle_timeout);
        idle.pop().map(|(connection, _)| connection)
    }

    fn park(&self, connection: AsyncSmtpConnection) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.push((connection, Instant::now()));
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, String> {
        let address = (self.host.as_str(), self.port);
        let stream = tokio::time::timeout(self.timeout, tokio::net::TcpStream::connect(address))
            .await
            .map_err(|_| format!("connecting to {}:{} timed out", self.host, self.port))?
            .map_err(|e| format!("connecting to {}:{}: {e}", self.host, self.port))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let mut connection =
            AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello)
                .await
                .map_err(|e| e.to_string())?;
        match &self.tls {
            StartTls::No => {}
            StartTls::Required(parameters) => connection
                .starttls(parameters.clone(), &self.hello)
                .await
                .map_err(|e| e.to_string())?,
            StartTls::Opportunistic(parameters) if connection.can_starttls() => connection
                .starttls(parameters.clone(), &self.hello)
                .await
                .map_err(|e| e.to_string())?,
            StartTls::Opportunistic(_) => {}
        }
        if let Some(credentials) = &self.credentials {
            connection
                .auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(connection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(1);

    #[test]
    fn smtp_urls_are_read_as_lettre_reads_them_and_smtps_is_left_to_lettre() {
        let plain = parse("smtp://127.0.0.1:2525", 4, T, T).unwrap().unwrap();
        assert_eq!((plain.host.as_str(), plain.port), ("127.0.0.1", 2525));
        assert!(matches!(plain.tls, StartTls::No) && plain.credentials.is_none());
        let submission = parse(
            "smtp://user%40x:p%20w@mail.example.jp/relay.example.jp?tls=required",
            4,
            T,
            T,
        )
        .unwrap()
        .unwrap();
        assert_eq!(submission.port, 587);
        assert!(matches!(submission.tls, StartTls::Required(_)));
        assert_eq!(
            submission.credentials,
            Some(Credentials::new("user@x".into(), "p w".into()))
        );
        assert_eq!(
            submission.hello,
            ClientId::Domain("relay.example.jp".into())
        );
        assert!(parse("smtps://mail.example.jp", 4, T, T).is_none());
        assert!(parse("smtp://mail.example.jp?tls=sometimes", 4, T, T)
            .unwrap()
            .is_err());
    }
}
