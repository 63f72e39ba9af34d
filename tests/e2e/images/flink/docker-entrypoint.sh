#!/usr/bin/env bash

###############################################################################
#  Licensed to the Apache Software Foundation (ASF) under one
#  or more contributor license agreements.  See the NOTICE file
#  distributed with this work for additional information
#  regarding copyright ownership.  The ASF licenses this file
#  to you under the Apache License, Version 2.0 (the
#  "License"); you may not use this file except in compliance
#  with the License.  You may obtain a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
#  Unless required by applicable law or agreed to in writing, software
#  distributed under the License is distributed on an "AS IS" BASIS,
#  WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
#  See the License for the specific language governing permissions and
# limitations under the License.
###############################################################################

# The entrypoint of the e2e Flink images (localhost/flink:<version>, tests/e2e/node/images.py): the
# official image's docker-entrypoint.sh (github.com/apache/flink-docker, 2.2/scala_2.12-java17-ubuntu
# for 1.19 and later, dev-1.18 before), one script for every release line. What differs from it:
#
# - The configuration directory may be read-only (a ConfigMap mounted at $FLINK_HOME/conf, with a
#   read-only root filesystem). Then it is copied into a writable directory, $FLINK_CONF_COPY_DIR
#   (default /tmp/flink-conf: an emptyDir at /tmp), and FLINK_CONF_DIR points there; Flink's scripts
#   read FLINK_CONF_DIR. Files the mount lacks (log4j-console.properties, ...) come from the image's
#   shipped configuration in /opt/flink-e2e/conf, the configuration file itself (config.yaml or
#   flink-conf.yaml) only when the mount has neither. A writable directory is changed in place, as the
#   official image does.
# - FLINK_PROPERTIES and the options of prepare_configuration are written exactly as the official image
#   of the release line does: with bin/config-parser-utils.sh where the release has it (1.19 and
#   later), else with sed, appending FLINK_PROPERTIES and envsubst over flink-conf.yaml (1.18 and before).
# - Logs go to $FLINK_LOG_DIR, /tmp/flink-log when $FLINK_HOME/log is not writable.
# - The image already runs as flink (9999): no gosu, only the official 2.x warning when run as root.
#
# The JVM is pid 1: this script execs jobmanager.sh/taskmanager.sh start-foreground, which exec java.

COMMAND_STANDALONE="standalone-job"
COMMAND_HISTORY_SERVER="history-server"
SHIPPED_CONF_DIR="/opt/flink-e2e/conf"

# If unspecified, the hostname of the container is taken as the JobManager address
JOB_MANAGER_RPC_ADDRESS=${JOB_MANAGER_RPC_ADDRESS:-$(hostname -f)}

check_priv_user() {
    if [ $(id -u) == 0 ]; then
        echo "WARNING: Running as root user is not recommended. Please use a non-root user to run Flink."
    fi
}

# A writable configuration directory, FLINK_CONF_DIR, whatever is mounted where.
prepare_conf_dir() {
    local source_dir="${FLINK_CONF_DIR:-$FLINK_HOME/conf}"
    if [ -w "$source_dir" ]; then
        export FLINK_CONF_DIR="$source_dir"
        return 0
    fi
    local copy_dir="${FLINK_CONF_COPY_DIR:-/tmp/flink-conf}"
    rm -rf "$copy_dir" && mkdir -p "$copy_dir" || {
        echo "ERROR: $source_dir is read-only and $copy_dir cannot be written (mount an emptyDir at /tmp)."
        exit 1
    }
    local mounted_config=""
    if [ -e "$source_dir/config.yaml" ] || [ -e "$source_dir/flink-conf.yaml" ]; then
        mounted_config="yes"
    fi
    local file
    for file in "$SHIPPED_CONF_DIR"/*; do
        local name="${file##*/}"
        if [ -n "$mounted_config" ] && { [ "$name" = "config.yaml" ] || [ "$name" = "flink-conf.yaml" ]; }; then
            continue
        fi
        cp "$file" "$copy_dir/$name"
    done
    # A ConfigMap volume: each key a symlink into ..data; the dot-directories are not copied.
    for file in "$source_dir"/*; do
        [ -f "$file" ] && cp -L "$file" "$copy_dir/${file##*/}"
    done
    echo "Configuration: $source_dir is read-only, using a copy in $copy_dir"
    export FLINK_CONF_DIR="$copy_dir"
}

prepare_log_dir() {
    if [ -z "$FLINK_LOG_DIR" ] && [ ! -w "$FLINK_HOME/log" ]; then
        export FLINK_LOG_DIR="/tmp/flink-log"
        mkdir -p "$FLINK_LOG_DIR"
    fi
}

copy_plugins_if_required() {
  if [ -z "$ENABLE_BUILT_IN_PLUGINS" ]; then
    return 0
  fi

  echo "Enabling required built-in plugins"
  for target_plugin in $(echo "$ENABLE_BUILT_IN_PLUGINS" | tr ';' ' '); do
    echo "Linking ${target_plugin} to plugin directory"
    plugin_name=${target_plugin%.jar}

    mkdir -p "${FLINK_HOME}/plugins/${plugin_name}"
    if [ ! -e "${FLINK_HOME}/opt/${target_plugin}" ]; then
      echo "Plugin ${target_plugin} does not exist. Exiting."
      exit 1
    else
      ln -fs "${FLINK_HOME}/opt/${target_plugin}" "${FLINK_HOME}/plugins/${plugin_name}"
      echo "Successfully enabled ${target_plugin}"
    fi
  done
}

# ---- 1.19 and later (2.2/scala_2.12-java17-ubuntu/docker-entrypoint.sh) ----

set_config_options() {
    local config_parser_script="$FLINK_HOME/bin/config-parser-utils.sh"
    local config_dir="$FLINK_CONF_DIR"
    local bin_dir="$FLINK_HOME/bin"
    local lib_dir="$FLINK_HOME/lib"

    local config_params=()

    while [ $# -gt 0 ]; do
        local key="$1"
        local value="$2"

        config_params+=("-D${key}=${value}")

        shift 2
    done

    if [ "${#config_params[@]}" -gt 0 ]; then
        "${config_parser_script}" "${config_dir}" "${bin_dir}" "${lib_dir}" "${config_params[@]}"
    fi
}

prepare_configuration() {
    local config_options=()

    config_options+=("jobmanager.rpc.address" "${JOB_MANAGER_RPC_ADDRESS}")
    config_options+=("blob.server.port" "6124")
    config_options+=("query.server.port" "6125")

    if [ -n "${TASK_MANAGER_NUMBER_OF_TASK_SLOTS}" ]; then
        config_options+=("taskmanager.numberOfTaskSlots" "${TASK_MANAGER_NUMBER_OF_TASK_SLOTS}")
    fi

    if [ ${#config_options[@]} -ne 0 ]; then
        set_config_options "${config_options[@]}"
    fi

    if [ -n "${FLINK_PROPERTIES}" ]; then
        process_flink_properties "${FLINK_PROPERTIES}"
    fi
}

process_flink_properties() {
    local flink_properties_content=$1
    local config_options=()

    local OLD_IFS="$IFS"
    IFS=$'\n'
    for prop in $flink_properties_content; do
        prop=$(echo $prop | tr -d '[:space:]')

        if [ -z "$prop" ]; then
            continue
        fi

        IFS=':' read -r key value <<< "$prop"

        value=$(echo $value | envsubst)

        config_options+=("$key" "$value")
    done
    IFS="$OLD_IFS"

    if [ ${#config_options[@]} -ne 0 ]; then
        set_config_options "${config_options[@]}"
    fi
}

# ---- before 1.19 (dev-1.18/docker-entrypoint.sh) ----

set_config_option_legacy() {
  local option=$1
  local value=$2

  # escape periods for usage in regular expressions
  local escaped_option=$(echo ${option} | sed -e "s/\./\\\./g")

  # either override an existing entry, or append a new one
  if grep -E "^${escaped_option}:.*" "${CONF_FILE}" > /dev/null; then
        sed -i -e "s/${escaped_option}:.*/$option: $value/g" "${CONF_FILE}"
  else
        echo "${option}: ${value}" >> "${CONF_FILE}"
  fi
}

prepare_configuration_legacy() {
    CONF_FILE="${FLINK_CONF_DIR}/flink-conf.yaml"

    set_config_option_legacy jobmanager.rpc.address ${JOB_MANAGER_RPC_ADDRESS}
    set_config_option_legacy blob.server.port 6124
    set_config_option_legacy query.server.port 6125

    if [ -n "${TASK_MANAGER_NUMBER_OF_TASK_SLOTS}" ]; then
        set_config_option_legacy taskmanager.numberOfTaskSlots ${TASK_MANAGER_NUMBER_OF_TASK_SLOTS}
    fi

    if [ -n "${FLINK_PROPERTIES}" ]; then
        echo "${FLINK_PROPERTIES}" >> "${CONF_FILE}"
    fi
    envsubst < "${CONF_FILE}" > "${CONF_FILE}.tmp" && mv "${CONF_FILE}.tmp" "${CONF_FILE}"
}

maybe_enable_jemalloc() {
    if [ "${DISABLE_JEMALLOC:-false}" == "false" ]; then
        JEMALLOC_PATH="/usr/lib/$(uname -m)-linux-gnu/libjemalloc.so"
        JEMALLOC_FALLBACK="/usr/lib/x86_64-linux-gnu/libjemalloc.so"
        if [ -f "$JEMALLOC_PATH" ]; then
            export LD_PRELOAD=$LD_PRELOAD:$JEMALLOC_PATH
        elif [ -f "$JEMALLOC_FALLBACK" ]; then
            export LD_PRELOAD=$LD_PRELOAD:$JEMALLOC_FALLBACK
        else
            if [ "$JEMALLOC_PATH" = "$JEMALLOC_FALLBACK" ]; then
                MSG_PATH=$JEMALLOC_PATH
            else
                MSG_PATH="$JEMALLOC_PATH and $JEMALLOC_FALLBACK"
            fi
            echo "WARNING: attempted to load jemalloc from $MSG_PATH but the library couldn't be found. glibc will be used instead."
        fi
    fi
}

check_priv_user

maybe_enable_jemalloc

copy_plugins_if_required

prepare_conf_dir

prepare_log_dir

if [ -e "$FLINK_HOME/bin/config-parser-utils.sh" ]; then
    prepare_configuration
else
    prepare_configuration_legacy
fi

args=("$@")
if [ "$1" = "help" ]; then
    printf "Usage: $(basename "$0") (jobmanager|${COMMAND_STANDALONE}|taskmanager|${COMMAND_HISTORY_SERVER})\n"
    printf "    Or $(basename "$0") help\n\n"
    printf "By default, Flink image adopts jemalloc as default memory allocator. This behavior can be disabled by setting the 'DISABLE_JEMALLOC' environment variable to 'true'.\n"
    exit 0
elif [ "$1" = "jobmanager" ]; then
    args=("${args[@]:1}")

    echo "Starting Job Manager"

    exec "$FLINK_HOME/bin/jobmanager.sh" start-foreground "${args[@]}"
elif [ "$1" = ${COMMAND_STANDALONE} ]; then
    args=("${args[@]:1}")

    echo "Starting Job Manager"

    exec "$FLINK_HOME/bin/standalone-job.sh" start-foreground "${args[@]}"
elif [ "$1" = ${COMMAND_HISTORY_SERVER} ]; then
    args=("${args[@]:1}")

    echo "Starting History Server"

    exec "$FLINK_HOME/bin/historyserver.sh" start-foreground "${args[@]}"
elif [ "$1" = "taskmanager" ]; then
    args=("${args[@]:1}")

    echo "Starting Task Manager"

    exec "$FLINK_HOME/bin/taskmanager.sh" start-foreground "${args[@]}"
fi

args=("${args[@]}")

# Running command in pass-through mode
exec "${args[@]}"
