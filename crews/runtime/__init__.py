"""Runtime services shared by every crew: LLM factory, local model, pricing."""
