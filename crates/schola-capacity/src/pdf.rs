//! The readiness report for the school authority as PDF.
//!
//! SKELETON: filled in by the report's owner.
