use flags::settings::Settings;
use flags::startup::Application;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init(platform::telemetry::format_from_env());
    let app = Application::build(Settings::load()?).await?;
    tracing::info!(port = app.port(), "flags service listening");
    app.run_until_stopped().await?;
    Ok(())
}
