mod assignment;
mod lessons;
mod metrics;
mod quiz;
mod simulation;
