# The peer image: the local base image (Debian bookworm minbase, see build-images.sh) plus one
# self-contained linux-x64 publish folder. Built by eng/docker/build-images.sh with the publish folder
# as the build context, the classic builder, --network none and no pull: nothing comes from a registry.
ARG BASE_IMAGE=vmci-harness/base:bookworm
FROM ${BASE_IMAGE}

# File name of the program's executable inside the publish folder.
ARG PEER_EXE
ENV VMCI_PEER_EXE=${PEER_EXE} \
    HOME=/tmp \
    DOTNET_NOLOGO=1 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_EnableDiagnostics=0

COPY . /opt/vmci-peer/
WORKDIR /opt/vmci-peer

# Containers get the program's arguments as their command: `docker run IMAGE arg1 arg2`.
ENTRYPOINT ["/bin/sh", "-c", "exec \"/opt/vmci-peer/$VMCI_PEER_EXE\" \"$@\"", "vmci-peer"]
