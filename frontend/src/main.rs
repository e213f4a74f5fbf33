use frontend::settings::Settings;
use frontend::startup::Application;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init(platform::telemetry::format_from_env());
    let app = Application::build(Settings::load()?).await?;
    tracing::info!(port = app.port(), "web UI listening");
    app.run_until_stopped().await?;
    Ok(())
}
