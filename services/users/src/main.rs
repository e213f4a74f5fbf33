use users::settings::Settings;
use users::startup::Application;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init(platform::telemetry::format_from_env());
    let settings = Settings::load()?;
    let app = Application::build(settings).await?;
    if let Some(admin) = app.first_admin() {
        print_first_admin(admin);
    }
    tracing::info!(port = app.port(), "users service listening");
    app.run_until_stopped().await?;
    Ok(())
}

fn print_first_admin(admin: &users::bootstrap::FirstAdmin) {
    match &admin.generated_password {
        Some(password) => println!("First admin created: {} / {password} (shown once; change it)", admin.email),
        None => println!("First admin created: {}", admin.email),
    }
}
