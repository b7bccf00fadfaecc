# The AWS emulator (moto plus tests/fixtures/aws_layer.py) as a container, for the
# container tests: built FROM the Debian image tests/container/images makes with
# debootstrap, since no registry is reachable. Its context is a folder that
# scripts/lib.sh's ensure_emulator_image fills: the wheels, downloaded on the host (whose
# pip has the network's certificates), installed offline here, and the layer.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ARG MOTO_VERSION
ARG CBOR2_VERSION
COPY wheels/ /wheels/
RUN python3 -m venv /venv \
 && /venv/bin/pip install --quiet --disable-pip-version-check --no-index --find-links /wheels \
      "moto[server]==${MOTO_VERSION}" "cbor2==${CBOR2_VERSION}"
COPY aws_layer.py /emulator/aws_layer.py
EXPOSE 5000
CMD ["/venv/bin/python", "/emulator/aws_layer.py", "-H", "0.0.0.0", "-p", "5000"]
