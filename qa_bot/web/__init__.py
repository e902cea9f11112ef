"""The Gradio web chat, served beside an OpenAI-compatible API."""
