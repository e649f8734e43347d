//! A real SMTP server on loopback for the tests: it speaks the protocol (EHLO, MAIL, RCPT,
//! DATA, RSET, NOOP, QUIT, and AUTH PLAIN), keeps every message it receives and every password
//! a client authenticated with, and can be told to refuse mail for a while, so tests read back
//! what arrived over the wire.
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message as received.
#[derive(Clone, Debug)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

impl ReceivedMail {
    /// A header's value (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
}

#[derive(Default)]
struct Inbox {
    mails: Vec<ReceivedMail>,
    refuse: bool,
    /// Connections accepted so far.
    connections: usize,
    /// The `(user, password)` of every `AUTH PLAIN`.
    logins: Vec<(String, String)>,
}

#[derive(Clone)]
pub struct SmtpServer {
    pub port: u16,
    inbox: Arc<Mutex<Inbox>>,
}

impl SmtpServer {
    pub async fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let port = listener.local_addr().unwrap().port();
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let shared = inbox.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let inbox = shared.clone();
                inbox.lock().unwrap().connections += 1;
                tokio::spawn(async move {
                    let _ = session(socket, inbox).await;
                });
            }
        });
        SmtpServer { port, inbox }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn mails(&self) -> Vec<ReceivedMail> {
        self.inbox.lock().unwrap().mails.clone()
    }

    /// The `(user, password)` every client authenticated with (`AUTH PLAIN`), in order.
    pub fn logins(&self) -> Vec<(String, String)> {
        self.inbox.lock().unwrap().logins.clone()
    }

    /// How many connections clients opened so far.
    pub fn connections(&self) -> usize {
        self.inbox.lock().unwrap().connections
    }

    /// While `true`, every transaction is refused with a 451 (temporary failure).
    pub fn refuse(&self, refuse: bool) {
        self.inbox.lock().unwrap().refuse = refuse;
    }

    /// Waits until at least `n` messages arrived (or 15 s passed) and returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<ReceivedMail> {
        for _ in 0..300 {
            let mails = self.mails();
            if mails.len() >= n {
                return mails;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.mails()
    }
}

async fn session(socket: tokio::net::TcpStream, inbox: Arc<Mutex<Inbox>>) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 hirelay-test ESMTP\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_uppercase();
        if upper.starts_with("EHLO") {
            write
                .write_all(
                    b"250-hirelay-test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-AUTH PLAIN\r\n250 PIPELINING\r\n",
                )
                .await?;
        } else if upper.starts_with("HELO") {
            write.write_all(b"250 hirelay-test\r\n").await?;
        } else if upper.starts_with("MAIL FROM:") {
            if inbox.lock().unwrap().refuse {
                write.write_all(b"451 4.3.0 try again later\r\n").await?;
                continue;
            }
            from = addr(&cmd[10..]);
            to.clear();
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            to.push(addr(&cmd[8..]));
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "DATA" {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                let l = line.strip_prefix('.').unwrap_or(&line);
                data.push_str(l);
            }
            inbox.lock().unwrap().mails.push(ReceivedMail {
                from: from.clone(),
                to: to.clone(),
                data,
            });
            write.write_all(b"250 OK queued\r\n").await?;
        } else if let Some(encoded) = cmd
            .get(..11)
            .filter(|c| c.eq_ignore_ascii_case("AUTH PLAIN "))
            .map(|_| &cmd[11..])
        {
            use base64::Engine;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .unwrap_or_default();
            let mut fields = decoded.split(|b| *b == 0).skip(1);
            let mut next =
                || String::from_utf8_lossy(fields.next().unwrap_or_default()).into_owned();
            let login = (next(), next());
            inbox.lock().unwrap().logins.push(login);
            write.write_all(b"235 2.7.0 authenticated\r\n").await?;
        } else if upper == "RSET" || upper == "NOOP" {
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            write.write_all(b"502 command not implemented\r\n").await?;
        }
    }
}

fn addr(s: &str) -> String {
    s.trim()
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap_or("")
        .to_owned()
}

/// Reading a received message as a mail client would: encoded headers (RFC 2047) and the parts
/// of a `multipart/alternative` body, decoded.
impl ReceivedMail {
    /// A header's value with RFC 2047 encoded words decoded.
    pub fn decoded_header(&self, name: &str) -> Option<String> {
        self.header(name).map(|v| decode_words(&v))
    }

    /// The decoded body of the first part whose content type starts with `content_type`
    /// (`text/plain`, `text/html`).
    pub fn part(&self, content_type: &str) -> Option<String> {
        let top = self.header("Content-Type")?;
        let boundary = top
            .split(';')
            .find_map(|p| p.trim().strip_prefix("boundary="))?
            .trim_matches('"')
            .to_owned();
        for chunk in self.data.split(&format!("--{boundary}")).skip(1) {
            let (head, body) = chunk.split_once("\r\n\r\n")?;
            let part = ReceivedMail {
                from: String::new(),
                to: Vec::new(),
                data: format!("{}\r\n\r\n", head.trim_start_matches("\r\n")),
            };
            let ct = part.header("Content-Type").unwrap_or_default();
            if !ct.to_lowercase().starts_with(content_type) {
                continue;
            }
            let cte = part
                .header("Content-Transfer-Encoding")
                .unwrap_or_default()
                .to_lowercase();
            return Some(match cte.as_str() {
                "base64" => {
                    use base64::Engine;
                    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
                    String::from_utf8(
                        base64::engine::general_purpose::STANDARD
                            .decode(compact)
                            .unwrap(),
                    )
                    .unwrap()
                }
                "quoted-printable" => decode_qp(body),
                _ => body.trim_end_matches("\r\n").to_owned(),
            });
        }
        None
    }
}

fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut last_was_word = false;
    while !rest.is_empty() {
        if let Some(start) = rest.find("=?") {
            let between = &rest[..start];
            if !(last_was_word && between.trim().is_empty()) {
                out.push_str(between);
            }
            let word = &rest[start + 2..];
            let mut pieces = word.splitn(3, '?');
            let (_charset, encoding, tail) = (
                pieces.next().unwrap(),
                pieces.next().unwrap(),
                pieces.next().unwrap(),
            );
            let end = tail.find("?=").unwrap();
            let text = &tail[..end];
            let bytes = if encoding.eq_ignore_ascii_case("b") {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .unwrap()
            } else {
                decode_qp(&text.replace('_', " ")).into_bytes()
            };
            out.push_str(&String::from_utf8(bytes).unwrap());
            rest = &tail[end + 2..];
            last_was_word = true;
        } else {
            out.push_str(rest);
            break;
        }
    }
    out
}

fn decode_qp(text: &str) -> String {
    let text = text.replace("=\r\n", "");
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out)
        .trim_end_matches("\r\n")
        .to_owned()
}
