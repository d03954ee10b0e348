//! `flux event pub|sub`: publish and watch events.

use anyhow::Context as _;

use crate::util;

/// Publish and subscribe to events.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Publish an event
    Pub {
        /// Send PAYLOAD as is, not as JSON
        #[arg(short, long)]
        raw: bool,
        /// Wait for the event's sequence number and print it
        #[arg(short, long)]
        synchronous: bool,
        /// Deliver only to the instance owner and the sender
        #[arg(short, long)]
        private: bool,
        /// Send the publication time as the payload (for latency measurements)
        #[arg(long, hide = true)]
        stamp: bool,
        /// Event topic
        topic: String,
        /// Payload (JSON unless --raw)
        payload: Option<String>,
    },
    /// Print events as they arrive: TOPIC<TAB>PAYLOAD
    Sub {
        /// Exit after N events
        #[arg(short, long)]
        count: Option<u64>,
        /// Print each event's latency from its `--stamp` time instead (microseconds)
        #[arg(long, hide = true)]
        latency: bool,
        /// Topic prefixes (default: every event)
        topics: Vec<String>,
    },
}

pub async fn run(cmd: Command) -> anyhow::Result<i32> {
    let h = util::connect().await?;
    match cmd {
        Command::Pub {
            raw,
            synchronous,
            private,
            stamp,
            topic,
            payload,
        } => {
            let payload = if stamp {
                Some(format!("{{\"t\":{}}}", now()))
            } else {
                payload
            };
            if let (Some(text), false) = (&payload, raw) {
                serde_json::from_str::<serde_json::Value>(text)
                    .with_context(|| format!("payload is not valid JSON: {text}"))?;
            }
            let seq = h.publish(&topic, payload.as_deref(), private).await?;
            if synchronous {
                println!("seq={seq}");
            }
        }
        Command::Sub {
            count,
            latency,
            topics,
        } => {
            let topics = if topics.is_empty() {
                vec![String::new()]
            } else {
                topics
            };
            for topic in &topics {
                h.subscribe(topic).await?;
            }
            let mut seen = 0;
            while count.is_none_or(|n| seen < n) {
                let event = h.next_event().await?;
                if latency {
                    let sent = serde_json::from_slice::<serde_json::Value>(&event.payload)
                        .ok()
                        .and_then(|v| v.get("t")?.as_f64());
                    if let Some(sent) = sent {
                        println!("{:.1}", (now() - sent) * 1e6);
                    }
                } else {
                    println!(
                        "{}\t{}",
                        event.topic,
                        String::from_utf8_lossy(&event.payload)
                    );
                }
                seen += 1;
            }
        }
    }
    Ok(0)
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
