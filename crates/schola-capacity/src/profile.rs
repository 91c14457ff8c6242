//! The distance-learning profile: how the school uses Schola on its busiest morning. Every
//! field has a documented default an admin can change on the capacity page (stored in the
//! `settings` table as JSON); a field left out of the stored JSON takes its default.

use serde::{Deserialize, Serialize};

/// How the school uses Schola at its peak. Defaults describe distance learning, the heaviest
/// case (January 2021: every pupil at home, every lesson on the school server).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Profile {
    /// Share of students online at the peak (default 0.95: distance learning, nearly all).
    pub students_online: f64,
    /// Share of teachers and staff online at the peak (default 1.0).
    pub staff_online: f64,
    /// Share of all people who sign in during the storm window (default 0.8 — 80 % …)
    pub storm_share: f64,
    /// … within this many seconds (default 600: between 7:55 and 8:05).
    pub storm_window_secs: f64,
    /// Requests per minute per active person after signing in (default 6: a page with its
    /// assets every few minutes, polling, file lists).
    pub requests_per_minute: f64,
    /// Connections one browser keeps open (default 6, HTTP/1.1's per-host maximum).
    pub connections_per_browser: f64,
    /// Bytes a teacher adds per school day and keeps (default 25 MB: worksheets, corrections,
    /// recorded explanations). Over 190 days that is about 4.75 GB, linuxmuster's per-teacher
    /// quota heuristic of 5 GB.
    pub upload_per_teacher: f64,
    /// Bytes a student adds per school day and keeps (default 3 MB: homework, photos and now
    /// and then a phone video of it). Over 190 days about 570 MB, a little above linuxmuster's
    /// per-student heuristic of 500 MB, for the videos of distance learning.
    pub upload_per_student: f64,
    /// Mails per person per school day (default 10) …
    pub mails_per_person: f64,
    /// … of this average size (default 75 kB).
    pub mail_size: f64,
    /// Network drives (SMB) mounted per active person at the peak (default 0.25: the school's
    /// own PCs and teachers' laptops mount the home drive; at home people use the web).
    pub drives_per_person: f64,
    /// Average download bandwidth per active person at the peak, bits/s (default 200 kbit/s:
    /// pages, worksheets and files, not video conferencing, which runs elsewhere).
    pub bandwidth_per_person: f64,
    /// School days per year the data grows on (default 190).
    pub school_days: f64,
    /// The school's internet uplink in bits/s as the admin entered it; it cannot be measured
    /// offline. `None` until entered.
    pub uplink_bits: Option<f64>,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            students_online: 0.95,
            staff_online: 1.0,
            storm_share: 0.8,
            storm_window_secs: 600.0,
            requests_per_minute: 6.0,
            connections_per_browser: 6.0,
            upload_per_teacher: 25e6,
            upload_per_student: 3e6,
            mails_per_person: 10.0,
            mail_size: 75e3,
            drives_per_person: 0.25,
            bandwidth_per_person: 200e3,
            school_days: 190.0,
            uplink_bits: None,
        }
    }
}

/// A profile value out of its range: names the field and the range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field} = {value} is out of range: {range}")]
pub struct ProfileError {
    pub field: &'static str,
    pub value: f64,
    pub range: &'static str,
}

impl Profile {
    /// Reads a stored profile; fields missing take their defaults, unknown fields are refused.
    pub fn from_json(text: &str) -> Result<Profile, String> {
        let p: Profile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        p.check().map_err(|e| e.to_string())?;
        Ok(p)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Every field within a range that makes sense for a school.
    pub fn check(&self) -> Result<(), ProfileError> {
        let share = |field, value: f64| {
            if (0.0..=1.0).contains(&value) {
                Ok(())
            } else {
                Err(ProfileError {
                    field,
                    value,
                    range: "0 to 1 (0 % to 100 %)",
                })
            }
        };
        let within = |field, value: f64, lo: f64, hi: f64, range| {
            if value.is_finite() && value >= lo && value <= hi {
                Ok(())
            } else {
                Err(ProfileError {
                    field,
                    value,
                    range,
                })
            }
        };
        share("students_online", self.students_online)?;
        share("staff_online", self.staff_online)?;
        share("storm_share", self.storm_share)?;
        within(
            "storm_window_secs",
            self.storm_window_secs,
            10.0,
            7_200.0,
            "10 s to 2 hours",
        )?;
        within(
            "requests_per_minute",
            self.requests_per_minute,
            0.0,
            600.0,
            "0 to 600",
        )?;
        within(
            "connections_per_browser",
            self.connections_per_browser,
            1.0,
            64.0,
            "1 to 64",
        )?;
        within(
            "upload_per_teacher",
            self.upload_per_teacher,
            0.0,
            1e12,
            "0 to 1 TB",
        )?;
        within(
            "upload_per_student",
            self.upload_per_student,
            0.0,
            1e12,
            "0 to 1 TB",
        )?;
        within(
            "mails_per_person",
            self.mails_per_person,
            0.0,
            10_000.0,
            "0 to 10,000",
        )?;
        within("mail_size", self.mail_size, 0.0, 1e9, "0 to 1 GB")?;
        within(
            "drives_per_person",
            self.drives_per_person,
            0.0,
            16.0,
            "0 to 16",
        )?;
        within(
            "bandwidth_per_person",
            self.bandwidth_per_person,
            0.0,
            1e10,
            "0 to 10 Gbit/s",
        )?;
        within("school_days", self.school_days, 1.0, 366.0, "1 to 366")?;
        if let Some(u) = self.uplink_bits {
            within("uplink_bits", u, 1e5, 1e12, "100 kbit/s to 1 Tbit/s")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_fields_take_defaults_and_bad_ones_are_named() {
        let p = Profile::from_json(r#"{"students_online": 0.5}"#)
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(p.students_online, 0.5);
        assert_eq!(p.storm_window_secs, 600.0);
        let e = Profile::from_json(r#"{"students_online": 1.5}"#).err();
        assert_eq!(
            e.as_deref(),
            Some("students_online = 1.5 is out of range: 0 to 1 (0 % to 100 %)")
        );
        let e = Profile::from_json(r#"{"student_online": 0.5}"#).err();
        assert!(e.is_some_and(|e| e.contains("unknown field `student_online`")));
        assert_eq!(Profile::default().check(), Ok(()));
    }
}
