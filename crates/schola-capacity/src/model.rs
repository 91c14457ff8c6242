//! The load model of this school: from people by role and the [`Profile`], the need per
//! resource. Every [`Figure`] carries its formula and inputs so an admin can follow it.
//!
//! SKELETON: the types are the contract; `needs` is filled in by the model's owner.

use serde::{Deserialize, Serialize};

use crate::{Quantity, Unit};
#[allow(unused_imports)]
use crate::{probe::Machine, profile::Profile};

/// People by role, from the directory (active accounts only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SchoolSize {
    pub students: usize,
    pub teachers: usize,
    pub staff: usize,
    pub admins: usize,
}

impl SchoolSize {
    pub fn people(&self) -> usize {
        self.students + self.teachers + self.staff + self.admins
    }
}

/// One input of a formula.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// Stable key, also the name used in the formula (`students`, `storm_share`).
    pub key: String,
    pub value: Quantity,
    /// Where it comes from: `directory`, `profile`, `probe`, `config`, `constant`.
    pub source: String,
}

/// One computed need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// Stable key (`signin_rate`, `signin_cpu`, `memory`, …).
    pub key: String,
    pub value: Quantity,
    /// The formula over input keys, e.g. `people × storm_share ÷ storm_window_secs`.
    pub formula: String,
    pub inputs: Vec<Input>,
}

/// Every need of the school.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Needs {
    pub figures: Vec<Figure>,
}

impl Needs {
    pub fn get(&self, key: &str) -> Option<&Figure> {
        self.figures.iter().find(|f| f.key == key)
    }

    pub fn value(&self, key: &str) -> Option<f64> {
        self.get(key).map(|f| f.value.value)
    }
}

#[allow(dead_code)]
fn _unit_used(_: Unit) {}
