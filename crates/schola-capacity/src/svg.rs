//! Pictures, rendered server-side as SVG (no JavaScript): need-versus-capacity bars per
//! resource, the disk growth forecast and the morning peak per day.
//!
//! SKELETON: filled in by the report's owner.
