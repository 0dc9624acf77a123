pub mod audit;
pub mod config_check;
pub mod serve;
