from crews.runtime.local_server import server_env


def test_the_api_key_reaches_llama_cpp_through_the_environment_only():
    env = server_env({"PATH": "/usr/bin", "CREWS_LLM_SERVER_API_KEY": "k-123"})
    assert env["API_KEY"] == "k-123" and env["PATH"] == "/usr/bin"


def test_without_a_key_the_server_has_none_even_if_api_key_is_set_by_chance():
    assert "API_KEY" not in server_env({"API_KEY": "from-another-tool", "PATH": "/usr/bin"})
