import pytest
from pydantic import ValidationError

from crews.runtime.settings import LOCAL_BASE_URL, LLMSettings


def test_default_is_the_local_server():
    settings = LLMSettings()
    assert (settings.provider, settings.base_url, settings.structured_mode) == (
        "local", LOCAL_BASE_URL, "json_object_schema",
    )


def test_from_env_reads_every_field():
    settings = LLMSettings.from_env(
        {"CREWS_LLM_PROVIDER": "openai", "CREWS_LLM_MODEL": "gpt-4o-mini", "CREWS_LLM_API_KEY": "sk-test",
         "CREWS_LLM_TIMEOUT_S": "30"}
    )
    assert settings.provider == "openai" and settings.timeout_s == 30
    assert settings.structured_mode == "json_schema"
    assert settings.api_key.get_secret_value() == "sk-test"


def test_api_key_never_appears_in_public_dict_or_repr():
    settings = LLMSettings(provider="openai", api_key="sk-secret-123")
    assert "sk-secret-123" not in repr(settings)
    assert "sk-secret-123" not in str(settings.public_dict())
    assert settings.public_dict()["api_key_set"] is True


def test_from_connection_maps_airflow_fields():
    settings = LLMSettings.from_connection(
        {"conn_type": "generic", "host": "localhost", "port": 11434, "password": None,
         "extra": '{"provider": "ollama", "model": "qwen2.5:0.5b", "timeout_s": 60}'}
    )
    assert settings.provider == "ollama"
    assert settings.base_url == "http://localhost:11434/v1"
    assert settings.timeout_s == 60


def test_generic_connection_without_provider_is_openai_compatible():
    settings = LLMSettings.from_connection({"conn_type": "generic", "host": "http://10.0.0.5:9000/v1",
                                            "extra": {"model": "m"}})
    assert settings.provider == "openai_compatible" and settings.structured_mode == "json_object"


@pytest.mark.parametrize(
    "fields",
    [
        {"provider": "nope"},
        {"provider": "openai_compatible", "model": "m"},
        {"provider": "scripted"},
        {"timeout_s": 0},
        {"unknown_field": 1},
        {"native_tools": True},
        {"provider": "anthropic", "api_key": "k", "native_tools": True},
    ],
)
def test_invalid_settings_are_refused(fields):
    with pytest.raises(ValidationError):
        LLMSettings(**fields)


def test_native_tools_is_read_from_the_environment_and_reaches_the_llm():
    from crews.runtime.llm_factory import build_llm

    settings = LLMSettings.from_env({"CREWS_LLM_PROVIDER": "ollama", "CREWS_LLM_NATIVE_TOOLS": "true"})
    assert settings.native_tools and build_llm(settings).supports_function_calling()
    assert not build_llm(LLMSettings()).supports_function_calling()
