# The hosted demo as a Hugging Face Docker Space (or any Docker host): browse-only install, UID 1000, port 7860.
# Never built on the machines this project is developed on (no Docker engine there); scripts/check_hosted_install.sh
# runs this file's pip install and CMD in a fresh venv instead (deploy/recipe.py reads them from here).
FROM python:3.11-slim
RUN useradd -m -u 1000 user
USER user
ENV HOME=/home/user \
    PATH=/home/user/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=7860
WORKDIR /home/user/app
RUN python -m venv /home/user/venv
COPY --chown=user requirements-dashboard.txt .
RUN pip install --no-cache-dir -r requirements-dashboard.txt
COPY --chown=user . .
EXPOSE 7860
CMD ["sh", "scripts/serve_hosted.sh"]
