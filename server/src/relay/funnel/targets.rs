//! C5: the rates the funnel's steps should reach (`HIRELAY_CAREER_RELAY_TARGETS`).
use super::STEPS;

/// C5: the rate each step should reach from the one before, e.g.
/// `invitation_sent=0.95,link_clicked=0.3,registered=0.2`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Targets(Vec<(&'static str, f64)>);

impl Targets {
    /// The target rate of `step`, if one is set.
    pub(crate) fn of(&self, step: &str) -> Option<f64> {
        self.0
            .iter()
            .find(|(name, _)| *name == step)
            .map(|(_, rate)| *rate)
    }
}

impl std::str::FromStr for Targets {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut targets = Vec::new();
        for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (step, rate) = entry
                .split_once('=')
                .ok_or_else(|| format!("`{entry}` is not step=rate"))?;
            let step = STEPS[1..]
                .iter()
                .find(|name| **name == step.trim())
                .ok_or_else(|| {
                    format!(
                        "`{}` is not a step with a rate; one of {}",
                        step.trim(),
                        STEPS[1..].join(", ")
                    )
                })?;
            let rate: f64 = rate
                .trim()
                .parse()
                .ok()
                .filter(|r: &f64| r.is_finite() && *r >= 0.0)
                .ok_or_else(|| format!("the target of `{step}` must be a rate such as 0.3"))?;
            targets.push((*step, rate));
        }
        Ok(Targets(targets))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// C5: targets name steps that have a rate, with a rate; anything else is refused.
    #[test]
    fn c5_targets_are_rates_of_named_steps() {
        let t: Targets = "registered=0.2".parse().unwrap();
        assert_eq!(t.of("registered"), Some(0.2));
        assert_eq!("".parse::<Targets>().unwrap(), Targets::default());
        for bad in [
            "rejected=0.5",
            "clicks=0.5",
            "registered",
            "registered=-1",
            "registered=x",
        ] {
            assert!(bad.parse::<Targets>().is_err(), "{bad}");
        }
    }
}
