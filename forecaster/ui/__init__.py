"""The only Streamlit glue: session state, background training jobs, shared widgets."""
