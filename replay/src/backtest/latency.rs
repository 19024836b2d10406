//! Latency models: when a market-data event reaches the core, and how long Keel's
//! requests take to reach the venue and the venue's reports to come back.
//!
//! Written as `KIND[:key=value,...]` (durations take `ns`, `us`, `ms` or `s`; a bare `0` is
//! zero):
//!
//! | spec | feed (venue → core) | requests (core → venue) | reports (venue → core) |
//! |---|---|---|---|
//! | `constant:FEED,ORDER` | `FEED` | `ORDER` for every request | `ORDER` |
//! | `per-op:feed=F,new=N,amend=A,cancel=C[,response=R]` | `F` | `N`, `A` or `C` by request | `R` (default `N`) |
//! | `recorded[:scale=X]` | each event's `local_ts − exchange_ts` | the last recorded feed latency × `X` | same |
//! | `recorded:new=N,amend=A,cancel=C[,response=R]` | each event's `local_ts − exchange_ts` | `N`, `A`, `C` | `R` (default `N`) |
//!
//! "The last recorded feed latency" is that of the last market-data event the core
//! received: the one-way delay the recording machine saw at that moment, standing in for
//! its order-entry path. A recorded event whose `local_ts` is before its `exchange_ts`
//! (clocks apart) arrives at its exchange time: latency zero.

use std::fmt;

/// A request Keel sends to the venue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// A new order.
    New,
    /// A cancel/replace.
    Amend,
    /// A cancel.
    Cancel,
}

/// Latencies of requests and reports, ns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PerOp {
    /// New order, core → venue.
    pub new_ns: u64,
    /// Cancel/replace, core → venue.
    pub amend_ns: u64,
    /// Cancel, core → venue.
    pub cancel_ns: u64,
    /// Any report, venue → core.
    pub response_ns: u64,
}

/// How market data reaches the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedLatency {
    /// Every event arrives this long after its exchange time.
    Constant(u64),
    /// Every event arrives at its recorded `local_ts`.
    Recorded,
}

/// How requests and reports travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderLatency {
    /// Fixed per request kind.
    PerOp(PerOp),
    /// The last recorded feed latency × `scale_permille / 1000`.
    Recorded {
        /// Scale in thousandths.
        scale_permille: u64,
    },
}

/// A latency model. See the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LatencyModel {
    /// Market data.
    pub feed: FeedLatency,
    /// Requests and reports.
    pub order: OrderLatency,
}

/// A latency spec that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("latency {spec:?}: {problem}")]
pub struct LatencyError {
    /// The spec given.
    pub spec: String,
    /// What is wrong.
    pub problem: String,
}

impl Default for LatencyModel {
    /// `recorded`: the data's own timestamps.
    fn default() -> Self {
        LatencyModel {
            feed: FeedLatency::Recorded,
            order: OrderLatency::Recorded { scale_permille: 1000 },
        }
    }
}

impl LatencyModel {
    /// A constant model: every feed event `feed_ns`, every request and report `order_ns`.
    pub fn constant(feed_ns: u64, order_ns: u64) -> Self {
        LatencyModel {
            feed: FeedLatency::Constant(feed_ns),
            order: OrderLatency::PerOp(PerOp {
                new_ns: order_ns,
                amend_ns: order_ns,
                cancel_ns: order_ns,
                response_ns: order_ns,
            }),
        }
    }

    /// When an event published at `venue_ns` (its exchange time, made monotonic) and
    /// recorded at `local_ns` reaches the core, before the feed's in-order clamp.
    #[inline]
    pub fn feed_arrival(&self, venue_ns: u64, local_ns: u64) -> u64 {
        match self.feed {
            FeedLatency::Constant(ns) => venue_ns.saturating_add(ns),
            FeedLatency::Recorded => local_ns.max(venue_ns),
        }
    }

    /// Core → venue latency of `op`; `recorded_feed_ns` is the last recorded feed latency.
    #[inline]
    pub fn request(&self, op: Op, recorded_feed_ns: u64) -> u64 {
        match self.order {
            OrderLatency::PerOp(p) => match op {
                Op::New => p.new_ns,
                Op::Amend => p.amend_ns,
                Op::Cancel => p.cancel_ns,
            },
            OrderLatency::Recorded { scale_permille } => scaled(recorded_feed_ns, scale_permille),
        }
    }

    /// Venue → core latency of a report.
    #[inline]
    pub fn response(&self, recorded_feed_ns: u64) -> u64 {
        match self.order {
            OrderLatency::PerOp(p) => p.response_ns,
            OrderLatency::Recorded { scale_permille } => scaled(recorded_feed_ns, scale_permille),
        }
    }

    /// Parses a spec (see the module docs).
    pub fn parse(spec: &str) -> Result<Self, LatencyError> {
        let fail = |problem: String| LatencyError { spec: spec.to_string(), problem };
        let (kind, rest) = spec.split_once(':').unwrap_or((spec, ""));
        let args: Vec<&str> = if rest.is_empty() { Vec::new() } else { rest.split(',').collect() };
        let mut keys: Vec<(&str, &str)> = Vec::new();
        let mut positional: Vec<&str> = Vec::new();
        for a in &args {
            match a.split_once('=') {
                Some((k, v)) => {
                    if keys.iter().any(|(seen, _)| *seen == k) {
                        return Err(fail(format!("{k} is given twice")));
                    }
                    keys.push((k, v));
                }
                None => positional.push(a),
            }
        }
        let get = |k: &str| keys.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
        let check_keys = |allowed: &[&str]| -> Result<(), LatencyError> {
            match keys.iter().find(|(k, _)| !allowed.contains(k)) {
                Some((k, _)) => {
                    Err(fail(format!("unknown key {k:?}; {kind} takes {}", allowed.join(", "))))
                }
                None => Ok(()),
            }
        };
        let dur = |k: &str, v: &str| parse_duration(v).map_err(|e| fail(format!("{k}: {e}")));
        let per_op = |required: bool| -> Result<Option<PerOp>, LatencyError> {
            let present = ["new", "amend", "cancel"].iter().filter(|k| get(k).is_some()).count();
            if present == 0 && !required {
                return Ok(None);
            }
            let need = |k: &str| {
                get(k).ok_or_else(|| fail(format!("{k} is missing"))).and_then(|v| dur(k, v))
            };
            let new_ns = need("new")?;
            Ok(Some(PerOp {
                new_ns,
                amend_ns: need("amend")?,
                cancel_ns: need("cancel")?,
                response_ns: match get("response") {
                    Some(v) => dur("response", v)?,
                    None => new_ns,
                },
            }))
        };
        match kind {
            "constant" => {
                check_keys(&["feed", "order"])?;
                let (feed, order) = match (positional.as_slice(), get("feed"), get("order")) {
                    ([f, o], None, None) => (*f, *o),
                    ([], Some(f), Some(o)) => (f, o),
                    _ => {
                        return Err(fail(
                            "constant takes FEED,ORDER (e.g. constant:100us,250us)".into(),
                        ));
                    }
                };
                Ok(LatencyModel::constant(dur("feed", feed)?, dur("order", order)?))
            }
            "per-op" => {
                check_keys(&["feed", "new", "amend", "cancel", "response"])?;
                if !positional.is_empty() {
                    return Err(fail("per-op takes key=value pairs only".into()));
                }
                let feed = get("feed").ok_or_else(|| fail("feed is missing".into()))?;
                Ok(LatencyModel {
                    feed: FeedLatency::Constant(dur("feed", feed)?),
                    order: OrderLatency::PerOp(per_op(true)?.expect("required")),
                })
            }
            "recorded" => {
                check_keys(&["scale", "new", "amend", "cancel", "response"])?;
                if !positional.is_empty() {
                    return Err(fail("recorded takes key=value pairs only".into()));
                }
                let order = match (get("scale"), per_op(false)?) {
                    (Some(_), Some(_)) => {
                        return Err(fail("give either scale or new/amend/cancel, not both".into()));
                    }
                    (None, Some(p)) => OrderLatency::PerOp(p),
                    (Some(s), None) => OrderLatency::Recorded {
                        scale_permille: parse_permille(s)
                            .map_err(|e| fail(format!("scale: {e}")))?,
                    },
                    (None, None) => OrderLatency::Recorded { scale_permille: 1000 },
                };
                Ok(LatencyModel { feed: FeedLatency::Recorded, order })
            }
            other => {
                Err(fail(format!("unknown model {other:?}; use constant, per-op or recorded")))
            }
        }
    }
}

fn scaled(ns: u64, permille: u64) -> u64 {
    (ns as u128 * permille as u128 / 1000).min(u64::MAX as u128) as u64
}

/// Canonical text, which parses back to the same model.
impl fmt::Display for LatencyModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ops = |f: &mut fmt::Formatter<'_>, p: &PerOp| {
            write!(
                f,
                "new={},amend={},cancel={},response={}",
                Duration(p.new_ns),
                Duration(p.amend_ns),
                Duration(p.cancel_ns),
                Duration(p.response_ns)
            )
        };
        match (self.feed, self.order) {
            (FeedLatency::Constant(feed), OrderLatency::PerOp(p))
                if p.new_ns == p.amend_ns
                    && p.new_ns == p.cancel_ns
                    && p.new_ns == p.response_ns =>
            {
                write!(f, "constant:{},{}", Duration(feed), Duration(p.new_ns))
            }
            (FeedLatency::Constant(feed), OrderLatency::PerOp(p)) => {
                write!(f, "per-op:feed={},", Duration(feed))?;
                ops(f, &p)
            }
            (FeedLatency::Recorded, OrderLatency::PerOp(p)) => {
                write!(f, "recorded:")?;
                ops(f, &p)
            }
            (_, OrderLatency::Recorded { scale_permille }) => {
                write!(f, "recorded:scale={}", Permille(scale_permille))
            }
        }
    }
}

/// A duration in ns, shown in the largest unit that keeps it whole.
pub struct Duration(pub u64);

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        for (unit, per) in [("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000)] {
            if ns >= per && ns % per == 0 {
                return write!(f, "{}{unit}", ns / per);
            }
        }
        write!(f, "{ns}ns")
    }
}

impl Duration {
    /// For people: three significant decimals in the largest unit below the value
    /// (`81.2ms`, `950ns`).
    pub fn human(&self) -> String {
        let ns = self.0;
        let (per, unit) = match ns {
            0..1_000 => return format!("{ns}ns"),
            1_000..1_000_000 => (1e3, "us"),
            1_000_000..1_000_000_000 => (1e6, "ms"),
            _ => (1e9, "s"),
        };
        let v = ns as f64 / per;
        let text = if v >= 100.0 {
            format!("{v:.0}")
        } else if v >= 10.0 {
            format!("{v:.1}")
        } else {
            format!("{v:.2}")
        };
        format!("{text}{unit}")
    }
}

struct Permille(u64);

impl fmt::Display for Permille {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, frac) = (self.0 / 1000, self.0 % 1000);
        if frac == 0 {
            write!(f, "{whole}")
        } else {
            let text = format!("{frac:03}");
            write!(f, "{whole}.{}", text.trim_end_matches('0'))
        }
    }
}

/// Parses `250us`, `1.5ms`, `0`, `100ns`, `2s` into nanoseconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    if text == "0" {
        return Ok(0);
    }
    let split = text.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let per: u64 = match unit {
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "" => return Err(format!("{text:?} needs a unit: ns, us, ms or s")),
        other => return Err(format!("unit {other:?} is not ns, us, ms or s")),
    };
    let value: rust_decimal::Decimal =
        number.parse().map_err(|_| format!("{number:?} is not a number"))?;
    let ns = value * rust_decimal::Decimal::from(per);
    if value.is_sign_negative() || !ns.fract().is_zero() {
        return Err(format!("{text:?} is not a whole number of nanoseconds >= 0"));
    }
    use rust_decimal::prelude::ToPrimitive;
    ns.to_u64().ok_or_else(|| format!("{text:?} is too long"))
}

fn parse_permille(text: &str) -> Result<u64, String> {
    let value: rust_decimal::Decimal =
        text.parse().map_err(|_| format!("{text:?} is not a number"))?;
    let permille = value * rust_decimal::Decimal::from(1000);
    if value.is_sign_negative() || !permille.fract().is_zero() {
        return Err(format!("{text:?} must be >= 0 with at most 3 decimals"));
    }
    use rust_decimal::prelude::ToPrimitive;
    permille.to_u64().ok_or_else(|| format!("{text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_print_back() {
        for spec in [
            "constant:100us,250us",
            "constant:0ns,0ns",
            "per-op:feed=1ms,new=300us,amend=250us,cancel=200us,response=300us",
            "recorded:scale=1",
            "recorded:scale=0.5",
            "recorded:new=1ms,amend=1ms,cancel=500us,response=2ms",
        ] {
            let model = LatencyModel::parse(spec).unwrap();
            assert_eq!(model.to_string(), spec);
            assert_eq!(LatencyModel::parse(&model.to_string()).unwrap(), model);
        }
        assert_eq!(
            LatencyModel::parse("constant:0,1.5ms").unwrap(),
            LatencyModel::constant(0, 1_500_000)
        );
        assert_eq!(LatencyModel::parse("recorded").unwrap(), LatencyModel::default());
    }

    #[test]
    fn bad_specs_say_why() {
        for (spec, says) in [
            ("fast", "unknown model"),
            ("constant:100", "FEED,ORDER"),
            ("constant:100x,1us", "unit"),
            ("per-op:feed=1us,new=1us,amend=1us", "cancel is missing"),
            ("per-op:feed=1us,new=1us,amend=1us,cancel=1us,colour=1", "unknown key"),
            ("recorded:scale=-1", "scale"),
            ("constant:1.5ns,0", "whole number"),
        ] {
            let e = LatencyModel::parse(spec).unwrap_err().to_string();
            assert!(e.contains(says), "{spec}: {e}");
        }
    }

    #[test]
    fn models_give_the_documented_latencies() {
        let c = LatencyModel::constant(10, 20);
        assert_eq!(
            (c.feed_arrival(100, 5), c.request(Op::Cancel, 999), c.response(999)),
            (110, 20, 20)
        );
        let r = LatencyModel::parse("recorded:scale=2").unwrap();
        assert_eq!((r.feed_arrival(100, 130), r.feed_arrival(100, 90)), (130, 100));
        assert_eq!((r.request(Op::New, 30), r.response(30)), (60, 60));
        let p = LatencyModel::parse("per-op:feed=0,new=3ns,amend=2ns,cancel=1ns").unwrap();
        assert_eq!(
            (
                p.request(Op::New, 0),
                p.request(Op::Amend, 0),
                p.request(Op::Cancel, 0),
                p.response(0)
            ),
            (3, 2, 1, 3)
        );
    }
}
