//! `heartbeat`: publishes `heartbeat.pulse` every period (default 2 s) so that other
//! services can do periodic work without timers of their own.

use std::time::Duration;

use actix::prelude::*;
use bytes::Bytes;
use serde_json::json;

use super::{ModuleContext, ModuleHandle, handle_common, unknown_method};
use crate::broker::Broker;
use crate::msg::{Deliver, Publish, Route, Stop};
use crate::tracer::Probe;

/// The heartbeat module's actor.
pub struct Heartbeat {
    name: String,
    rank: u32,
    period: Duration,
    epoch: u64,
    broker: Addr<Broker>,
    probe: Probe,
}

/// Start the module; `period=FSD` sets the interval.
pub fn start(mut ctx: ModuleContext) -> Result<ModuleHandle, String> {
    let period = match ctx.args.take("period") {
        Some(text) => {
            parse_period(&text).ok_or_else(|| format!("heartbeat: invalid period '{text}'"))?
        }
        None => Duration::from_secs(2),
    };
    ctx.args.finish("heartbeat")?;
    let addr = Heartbeat {
        name: ctx.name,
        rank: ctx.rank,
        period,
        epoch: 0,
        broker: ctx.broker,
        probe: ctx.probe,
    }
    .start();
    Ok(ModuleHandle::of(addr))
}

/// A period in Flux Standard Duration; it must be positive and finite.
fn parse_period(text: &str) -> Option<Duration> {
    let secs = flux_proto::types::fsd::parse(text).ok()?;
    (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs))
}

impl Actor for Heartbeat {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // One pulse for the whole instance: rank 0's.
        if self.rank != 0 {
            return;
        }
        ctx.run_interval(self.period, |act, _| {
            act.epoch += 1;
            act.probe.sent();
            act.broker.do_send(Publish {
                topic: "heartbeat.pulse".into(),
                payload: Bytes::from(json!({ "epoch": act.epoch }).to_string()),
                private: false,
            });
        });
    }
}

impl Handler<Deliver> for Heartbeat {
    type Result = ();

    fn handle(&mut self, Deliver(msg): Deliver, _: &mut Context<Self>) {
        let _timing = self.probe.handling();
        if msg.is_noresponse() {
            return;
        }
        let rsp = match handle_common(&self.name, &self.probe, &msg) {
            Some(rsp) => rsp,
            None if msg.topic == format!("{}.get", self.name) => msg.response_json(
                &json!({ "epoch": self.epoch, "period": self.period.as_secs_f64() }),
            ),
            None => unknown_method(&msg),
        };
        self.probe.sent();
        self.broker.do_send(Route {
            from: self.name.clone(),
            msg: rsp,
        });
    }
}

impl Handler<Stop> for Heartbeat {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_as_fsd() {
        assert_eq!(parse_period("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_period("0.5s"), Some(Duration::from_millis(500)));
        assert_eq!(parse_period("100ms"), Some(Duration::from_millis(100)));
        assert_eq!(parse_period("1m"), Some(Duration::from_secs(60)));
        assert_eq!(parse_period("0"), None);
        assert_eq!(parse_period("-1s"), None);
        assert_eq!(parse_period("abc"), None);
        assert_eq!(parse_period("inf"), None);
    }
}
