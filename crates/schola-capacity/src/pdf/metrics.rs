//! Helvetica's glyph widths and the WinAnsi encoding, from schola-pdf (shared with the password
//! letters).

pub(crate) use schola_pdf::{encode, str_width, width};
