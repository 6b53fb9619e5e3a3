from tests.integration.review.conftest import app_settings  # noqa: F401 - same settings fixture
