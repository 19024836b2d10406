//! Strategies (stub).
