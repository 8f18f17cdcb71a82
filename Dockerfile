# The Streamlit lab as a Hugging Face Docker Space (deploy/streamlit-space/README.md has its front matter;
# `make space-streamlit DEST=dir` assembles the folder to push). Build: docker build -t kd-lab .
FROM python:3.11-slim

# Spaces run the container as uid 1000: that user, with a writable home that holds every cache.
RUN useradd --create-home --uid 1000 user
USER 1000
ENV HOME=/home/user \
    PATH=/home/user/venv/bin:$PATH \
    PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu \
    KD_DATA_DIR=/home/user/.cache/kd-lab \
    KD_RUNS_DIR=/home/user/runs \
    MPLCONFIGDIR=/home/user/.cache/matplotlib \
    PYTHONUNBUFFERED=1
WORKDIR /home/user/app
RUN python -m venv /home/user/venv

# requirements with CPU-only torch wheels (a small image), then MNIST cached in the image
COPY --chown=user . .
RUN sh deploy/docker-install.sh

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]
# streamlit run dashboard/server.py --server.port=8501 --server.address=0.0.0.0 (the script is shared with the test)
CMD ["sh", "deploy/start-streamlit.sh"]
