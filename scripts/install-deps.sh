#!/usr/bin/env bash
# Installs every Debian package doge needs to build, test and benchmark.
# Idempotent: apt-get skips what is already there. Run as root (or with sudo available).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git python3
  libeigen3-dev libsimdjson-dev
  libsentencepiece-dev sentencepiece        # library + spm_train/spm_encode used by the tests
  libbenchmark-dev libgtest-dev libgmock-dev
  libboost-program-options-dev libomp-dev
  libpcre2-dev                              # Unicode regex for the tokenizer's pre-tokenizer
  libcurl4-openssl-dev                      # dataset downloads (redirects, resume, retries)
  libarchive-dev                            # dataset archive extraction (zip, tar.gz)
  libssl-dev                                # SHA-256 of downloaded files
  libicu-dev                                # full Unicode case mapping (str.lower/upper/capitalize)
  chromium                                  # headless screenshot test of `doge report` HTML
  zlib1g-dev                                # PNG decoding in that test (inflate)
  clang                                     # the second compiler CI builds and tests with (preset clang)
  libopenmpi-dev openmpi-bin                # mpirun doge eval: one evaluation over many processes/hosts
  libclang-rt-14-dev                        # clang's libFuzzer + ASan/UBSan runtimes (preset fuzz; only
                                            # recommended by clang, so --no-install-recommends skips it)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all ${#packages[@]} packages present"
fi
