pub mod audit;
pub mod config_check;
pub mod keys;
pub mod serve;
