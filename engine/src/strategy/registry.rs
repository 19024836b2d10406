//! Building strategies by name from configuration text.
//!
//! `build_strategy("market_maker", &[("instrument", "1"), ("half_spread_ticks", "2")])`
//! parses every parameter as an integer against a declared table (name, range, unit,
//! default), and fails with a [`StrategyConfigError`] that names the strategy, the
//! parameter and the value at fault, listing what would have been valid. Runs at start-up
//! only; this is the one place in the module that allocates.

use crate::strategy::{MarketMaker, Strategy, Taker};
use std::fmt;

/// Every strategy [`build_strategy`] knows.
pub const STRATEGY_NAMES: &[&str] = &[MarketMaker::NAME, Taker::NAME];

/// One declared integer parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamSpec {
    /// Name as written in configuration.
    pub name: &'static str,
    /// Value when not given; `None` makes the parameter required.
    pub default: Option<i64>,
    /// Smallest valid value.
    pub min: i64,
    /// Largest valid value.
    pub max: i64,
    /// Unit, for messages.
    pub unit: &'static str,
}

/// Why a strategy could not be built from its configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StrategyConfigError {
    /// No strategy has this name.
    UnknownStrategy {
        /// The name given.
        name: String,
    },
    /// The strategy has no parameter of this name.
    UnknownParameter {
        /// Strategy name.
        strategy: &'static str,
        /// The parameter given.
        param: String,
        /// The strategy's parameters.
        valid: &'static [ParamSpec],
    },
    /// A required parameter is missing.
    MissingParameter {
        /// Strategy name.
        strategy: &'static str,
        /// The parameter.
        param: &'static str,
    },
    /// A parameter was given twice.
    DuplicateParameter {
        /// Strategy name.
        strategy: &'static str,
        /// The parameter.
        param: &'static str,
    },
    /// The value is not an integer in the parameter's range.
    InvalidValue {
        /// Strategy name.
        strategy: &'static str,
        /// The parameter's declaration.
        param: ParamSpec,
        /// The value given.
        value: String,
    },
}

impl fmt::Display for StrategyConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownStrategy { name } => {
                write!(f, "unknown strategy `{name}`; known strategies: ")?;
                write_list(f, STRATEGY_NAMES.iter().copied())
            }
            Self::UnknownParameter { strategy, param, valid } => {
                write!(f, "{strategy}: unknown parameter `{param}`; valid parameters: ")?;
                write_list(f, valid.iter().map(|p| p.name))
            }
            Self::MissingParameter { strategy, param } => {
                write!(f, "{strategy}: required parameter `{param}` is missing")
            }
            Self::DuplicateParameter { strategy, param } => {
                write!(f, "{strategy}: parameter `{param}` is given more than once")
            }
            Self::InvalidValue { strategy, param, value } => write!(
                f,
                "{strategy}: parameter `{}` = `{value}` is invalid; expected an integer in {}..={} ({})",
                param.name, param.min, param.max, param.unit
            ),
        }
    }
}

impl std::error::Error for StrategyConfigError {}

fn write_list<'a>(f: &mut fmt::Formatter<'_>, items: impl Iterator<Item = &'a str>) -> fmt::Result {
    for (i, item) in items.enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        f.write_str(item)?;
    }
    Ok(())
}

/// Builds the strategy `name` with `params` (name, value) pairs.
pub fn build_strategy(
    name: &str,
    params: &[(&str, &str)],
) -> Result<Box<dyn Strategy>, StrategyConfigError> {
    match name {
        MarketMaker::NAME => Ok(Box::new(MarketMaker::from_params(params)?)),
        Taker::NAME => Ok(Box::new(Taker::from_params(params)?)),
        _ => Err(StrategyConfigError::UnknownStrategy { name: name.to_owned() }),
    }
}

/// Parses `given` against `specs`, returning values in `specs` order.
pub(crate) fn parse_params<const N: usize>(
    strategy: &'static str,
    specs: &'static [ParamSpec; N],
    given: &[(&str, &str)],
) -> Result<[i64; N], StrategyConfigError> {
    let mut values: [Option<i64>; N] = [None; N];
    for &(key, text) in given {
        let Some(i) = specs.iter().position(|s| s.name == key) else {
            return Err(StrategyConfigError::UnknownParameter {
                strategy,
                param: key.to_owned(),
                valid: specs,
            });
        };
        let spec = specs[i];
        if values[i].is_some() {
            return Err(StrategyConfigError::DuplicateParameter { strategy, param: spec.name });
        }
        let value = text.trim().parse::<i64>().ok().filter(|v| (spec.min..=spec.max).contains(v));
        let Some(value) = value else {
            return Err(StrategyConfigError::InvalidValue {
                strategy,
                param: spec,
                value: text.to_owned(),
            });
        };
        values[i] = Some(value);
    }
    let mut out = [0i64; N];
    for (i, spec) in specs.iter().enumerate() {
        out[i] = values[i]
            .or(spec.default)
            .ok_or(StrategyConfigError::MissingParameter { strategy, param: spec.name })?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(name: &str, params: &[(&str, &str)]) -> String {
        match build_strategy(name, params) {
            Ok(_) => panic!("built {name}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn builds_both_reference_strategies() {
        let mm = build_strategy("market_maker", &[("instrument", "3")]).unwrap();
        assert_eq!(mm.name(), "market_maker");
        assert_eq!(mm.instruments(), &[crate::InstrumentId(3)]);
        let taker = build_strategy("taker", &[("instrument", "1"), ("cooldown_ns", "5")]).unwrap();
        assert_eq!(taker.name(), "taker");
    }

    #[test]
    fn errors_name_the_problem_and_list_valid_choices() {
        assert_eq!(
            err("maker", &[]),
            "unknown strategy `maker`; known strategies: market_maker, taker"
        );
        let e = err("market_maker", &[("instrument", "1"), ("spread", "2")]);
        assert!(e.starts_with("market_maker: unknown parameter `spread`; valid parameters: instrument, half_spread_ticks"), "{e}");
        assert_eq!(err("taker", &[]), "taker: required parameter `instrument` is missing");
        assert_eq!(
            err("taker", &[("instrument", "1"), ("instrument", "2")]),
            "taker: parameter `instrument` is given more than once"
        );
        let e = err("market_maker", &[("instrument", "1"), ("size_lots", "0")]);
        assert!(
            e.starts_with(
                "market_maker: parameter `size_lots` = `0` is invalid; expected an integer in 1.."
            ),
            "{e}"
        );
        let e = err("taker", &[("instrument", "x")]);
        assert!(e.contains("`instrument` = `x` is invalid"), "{e}");
    }
}
