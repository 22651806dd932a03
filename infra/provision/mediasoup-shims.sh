#!/usr/bin/env bash
# Writes meson "subproject" shims into a mediasoup worker source tree ($1 = worker dir) so that
# `meson setup --wrap-mode=nodownload` uses Debian's libraries instead of downloading wraps:
# a subproject directory that already exists is used as-is. One shim per library: libuv,
# openssl, flatbuffers, abseil, a header-only ankerl::unordered_dense stand-in, and a
# libsrtp 3.0 API layer over Debian's libsrtp2 (no MKI, no cryptex; one extra copy per packet).
set -euo pipefail
W=$1
wrapdir() { sed -n 's/^directory *= *//p' "$W/subprojects/$1.wrap"; }
D=$W/subprojects/$(wrapdir libuv); mkdir -p "$D"
cat > "$D/meson.build" <<'EOF'
# Shim: redirect mediasoup's libuv subproject to Debian's libuv1-dev.
project('libuv', 'c')
libuv_dep = dependency('libuv')
# mediasoup link_whole()s this variable, so it must be a static library target.
libuv = static_library('libuv_shim', 'empty.c', dependencies: libuv_dep)
EOF
cat > "$D/meson_options.txt" <<'EOF'
option('build_tests', type: 'boolean', value: false)
option('build_benchmarks', type: 'boolean', value: false)
EOF
echo 'int ms_libuv_shim_dummy;' > "$D/empty.c"

D=$W/subprojects/$(wrapdir openssl); mkdir -p "$D"
cat > "$D/meson.build" <<'EOF'
# Shim: redirect mediasoup's openssl subproject to Debian's libssl-dev.
project('openssl', 'c')
libcrypto_dep = dependency('libcrypto')
libssl_dep = dependency('libssl')
openssl_dep = dependency('openssl')
libcrypto_lib = static_library('libcrypto_shim', 'empty_crypto.c', dependencies: libcrypto_dep)
libssl_lib = static_library('libssl_shim', 'empty_ssl.c', dependencies: libssl_dep)
EOF
echo 'int ms_libcrypto_shim_dummy;' > "$D/empty_crypto.c"
echo 'int ms_libssl_shim_dummy;' > "$D/empty_ssl.c"

D=$W/subprojects/$(wrapdir flatbuffers); mkdir -p "$D"
cat > "$D/meson.build" <<'EOF'
# Shim: redirect mediasoup's flatbuffers subproject to Debian's libflatbuffers-dev
# (headers) + flatbuffers-compiler (/usr/bin/flatc, found by find_program()).
project('flatbuffers', 'cpp')
flatbuffers_dep = dependency('flatbuffers')
flatbuffers_lib = static_library('flatbuffers_shim', 'empty.cpp', dependencies: flatbuffers_dep)
EOF
echo 'int ms_flatbuffers_shim_dummy;' > "$D/empty.cpp"

D=$W/subprojects/$(wrapdir abseil-cpp); mkdir -p "$D"
cat > "$D/meson.build" <<'EOF'
# Shim: redirect mediasoup's abseil-cpp subproject to Debian's libabsl-dev.
project('abseil-cpp', 'cpp')
absl_base_dep = dependency('absl_base')
absl_strings_dep = dependency('absl_strings')
absl_types_dep = declare_dependency(dependencies: [
  dependency('absl_optional'), dependency('absl_memory'),
])
absl_container_dep = dependency('absl_flat_hash_map')
absl_container_lib = static_library('absl_container_shim', 'empty.cpp', dependencies: absl_container_dep)
EOF
echo 'int ms_absl_shim_dummy;' > "$D/empty.cpp"

D=$W/subprojects/$(wrapdir unordered-dense); mkdir -p "$D/include/ankerl"
cat > "$D/meson.build" <<'EOF'
# Shim: header-only stand-in for martinus/unordered_dense (not packaged in Debian).
project('ankerl-unordered-dense', 'cpp', version: '4.8.1')
ankerl_unordered_dense_dep = declare_dependency(include_directories: include_directories('include'))
EOF
cat > "$D/include/ankerl/unordered_dense.h" <<'EOF'
// Compatibility shim for ankerl::unordered_dense (https://github.com/martinus/unordered_dense),
// which Debian does not package. Maps map/set/hash onto the standard containers.
// Differences: iteration order is not insertion order, and it is slower.
#ifndef ANKERL_UNORDERED_DENSE_H
#define ANKERL_UNORDERED_DENSE_H

#include <functional>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace ankerl::unordered_dense
{
	template<class T, class Enable = void>
	struct hash : std::hash<T>
	{
	};

	template<
	  class Key,
	  class T,
	  class Hash      = hash<Key>,
	  class KeyEqual  = std::equal_to<Key>,
	  class Allocator = std::allocator<std::pair<const Key, T>>>
	using map = std::unordered_map<Key, T, Hash, KeyEqual, Allocator>;

	template<class Key, class Hash = hash<Key>, class KeyEqual = std::equal_to<Key>, class Allocator = std::allocator<Key>>
	using set = std::unordered_set<Key, Hash, KeyEqual, Allocator>;
} // namespace ankerl::unordered_dense

#endif
EOF

D=$W/subprojects/$(wrapdir libsrtp3); mkdir -p "$D/include"
cat > "$D/meson.build" <<'EOF'
# Shim: provide the subset of the libsrtp 3.0 API that mediasoup uses, implemented
# on top of Debian's libsrtp2 (libsrtp2-dev). See include/srtp.h and srtp3_compat.c.
project('libsrtp3', 'c')
libsrtp2_dep = dependency('libsrtp2')
libsrtp3 = static_library('libsrtp3_compat', 'srtp3_compat.c', dependencies: libsrtp2_dep)
libsrtp3_dep = declare_dependency(
  include_directories: include_directories('include'),
  link_with: libsrtp3,
  dependencies: libsrtp2_dep,
)
EOF
cat > "$D/meson_options.txt" <<'EOF'
option('crypto-library', type: 'string', value: 'openssl')
option('crypto-library-kdf', type: 'feature', value: 'disabled')
option('tests', type: 'feature', value: 'disabled')
EOF
cat > "$D/include/srtp.h" <<'EOF'
/*
 * libsrtp 3.0 API subset used by mediasoup, implemented over libsrtp2
 * (Debian's libsrtp2-dev) by srtp3_compat.c. Functions whose signature differs
 * from libsrtp2 are renamed with macros to ms_srtp3_* so they cannot clash with
 * libsrtp2's symbols. Types are ABI-identical to libsrtp2's.
 */
#ifndef MS_SRTP3_COMPAT_SRTP_H
#define MS_SRTP3_COMPAT_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SRTP_MAX_KEY_LEN 64
#define SRTP_MAX_TAG_LEN 16
#define SRTP_MAX_MKI_LEN 128
#define SRTP_MAX_TRAILER_LEN (SRTP_MAX_TAG_LEN + SRTP_MAX_MKI_LEN)

typedef enum {
    srtp_err_status_ok = 0,
    srtp_err_status_fail = 1,
    srtp_err_status_bad_param = 2,
    srtp_err_status_alloc_fail = 3,
    srtp_err_status_dealloc_fail = 4,
    srtp_err_status_init_fail = 5,
    srtp_err_status_terminus = 6,
    srtp_err_status_auth_fail = 7,
    srtp_err_status_cipher_fail = 8,
    srtp_err_status_replay_fail = 9,
    srtp_err_status_replay_old = 10,
    srtp_err_status_algo_fail = 11,
    srtp_err_status_no_such_op = 12,
    srtp_err_status_no_ctx = 13,
    srtp_err_status_cant_check = 14,
    srtp_err_status_key_expired = 15,
    srtp_err_status_socket_err = 16,
    srtp_err_status_signal_err = 17,
    srtp_err_status_nonce_bad = 18,
    srtp_err_status_read_fail = 19,
    srtp_err_status_write_fail = 20,
    srtp_err_status_parse_err = 21,
    srtp_err_status_encode_err = 22,
    srtp_err_status_semaphore_err = 23,
    srtp_err_status_pfkey_err = 24,
    srtp_err_status_bad_mki = 25,
    srtp_err_status_pkt_idx_old = 26,
    srtp_err_status_pkt_idx_adv = 27,
    srtp_err_status_buffer_small = 28,
    srtp_err_status_cryptex_err = 29
} srtp_err_status_t;

typedef enum {
    ssrc_undefined = 0,
    ssrc_specific = 1,
    ssrc_any_inbound = 2,
    ssrc_any_outbound = 3
} srtp_ssrc_type_t;

typedef struct {
    srtp_ssrc_type_t type;
    unsigned int value;
} srtp_ssrc_t;

typedef enum {
    srtp_profile_reserved = 0,
    srtp_profile_aes128_cm_sha1_80 = 1,
    srtp_profile_aes128_cm_sha1_32 = 2,
    srtp_profile_null_sha1_80 = 5,
    srtp_profile_null_sha1_32 = 6,
    srtp_profile_aead_aes_128_gcm = 7,
    srtp_profile_aead_aes_256_gcm = 8
} srtp_profile_t;

typedef struct srtp_ctx_t_ srtp_ctx_t;
typedef srtp_ctx_t *srtp_t;

typedef struct ms_srtp3_policy *srtp_policy_t;

typedef enum {
    event_ssrc_collision,
    event_key_soft_limit,
    event_key_hard_limit,
    event_packet_index_limit
} srtp_event_t;

typedef struct srtp_event_data_t {
    srtp_t session;
    uint32_t ssrc;
    srtp_event_t event;
} srtp_event_data_t;

typedef void(srtp_event_handler_func_t)(srtp_event_data_t *data);

/* Same signature as in libsrtp2: call it directly. */
srtp_err_status_t srtp_init(void);
srtp_err_status_t srtp_shutdown(void);
const char *srtp_get_version_string(void);
srtp_err_status_t srtp_dealloc(srtp_t session);
srtp_err_status_t srtp_install_event_handler(srtp_event_handler_func_t func);

/* libsrtp 3.0 API implemented in srtp3_compat.c. */
#define srtp_policy_create ms_srtp3_policy_create
#define srtp_policy_destroy ms_srtp3_policy_destroy
#define srtp_policy_set_ssrc ms_srtp3_policy_set_ssrc
#define srtp_policy_set_profile ms_srtp3_policy_set_profile
#define srtp_policy_add_key ms_srtp3_policy_add_key
#define srtp_policy_set_allow_repeat_tx ms_srtp3_policy_set_allow_repeat_tx
#define srtp_policy_set_window_size ms_srtp3_policy_set_window_size
#define srtp_profile_get_master_key_length ms_srtp3_profile_get_master_key_length
#define srtp_profile_get_master_salt_length ms_srtp3_profile_get_master_salt_length
#define srtp_create ms_srtp3_create
#define srtp_protect ms_srtp3_protect
#define srtp_unprotect ms_srtp3_unprotect
#define srtp_protect_rtcp ms_srtp3_protect_rtcp
#define srtp_unprotect_rtcp ms_srtp3_unprotect_rtcp
#define srtp_stream_remove ms_srtp3_stream_remove

srtp_err_status_t srtp_policy_create(srtp_policy_t *policy);
void srtp_policy_destroy(srtp_policy_t policy);
srtp_err_status_t srtp_policy_set_ssrc(srtp_policy_t policy, srtp_ssrc_t ssrc);
srtp_err_status_t srtp_policy_set_profile(srtp_policy_t policy, srtp_profile_t profile);
srtp_err_status_t srtp_policy_add_key(srtp_policy_t policy,
                                      const uint8_t *key, size_t key_len,
                                      const uint8_t *salt, size_t salt_len,
                                      const uint8_t *mki, size_t mki_len);
srtp_err_status_t srtp_policy_set_allow_repeat_tx(srtp_policy_t policy, bool allow);
srtp_err_status_t srtp_policy_set_window_size(srtp_policy_t policy, size_t window_size);
size_t srtp_profile_get_master_key_length(srtp_profile_t profile);
size_t srtp_profile_get_master_salt_length(srtp_profile_t profile);
srtp_err_status_t srtp_create(srtp_t *session, const srtp_policy_t policy);
srtp_err_status_t srtp_protect(srtp_t ctx, const uint8_t *rtp, size_t rtp_len,
                               uint8_t *srtp, size_t *srtp_len, size_t mki_index);
srtp_err_status_t srtp_unprotect(srtp_t ctx, const uint8_t *srtp, size_t srtp_len,
                                 uint8_t *rtp, size_t *rtp_len);
srtp_err_status_t srtp_protect_rtcp(srtp_t ctx, const uint8_t *rtcp, size_t rtcp_len,
                                    uint8_t *srtcp, size_t *srtcp_len, size_t mki_index);
srtp_err_status_t srtp_unprotect_rtcp(srtp_t ctx, const uint8_t *srtcp, size_t srtcp_len,
                                      uint8_t *rtcp, size_t *rtcp_len);
srtp_err_status_t srtp_stream_remove(srtp_t session, uint32_t ssrc);

#ifdef __cplusplus
}
#endif

#endif
EOF
cat > "$D/srtp3_compat.c" <<'EOF'
/* libsrtp 3.0-style API (subset used by mediasoup) on top of libsrtp2. */
#include <srtp2/srtp.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct ms_srtp3_policy {
    srtp_profile_t profile;
    srtp_ssrc_t ssrc;
    unsigned char key[SRTP_MAX_KEY_LEN]; /* master key || master salt */
    size_t key_len;
    bool has_key;
    unsigned long window_size;
    int allow_repeat_tx;
};

srtp_err_status_t ms_srtp3_policy_create(struct ms_srtp3_policy **policy)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;
    *policy = calloc(1, sizeof(**policy));
    if (*policy == NULL)
        return srtp_err_status_alloc_fail;
    (*policy)->window_size = 128;
    return srtp_err_status_ok;
}

void ms_srtp3_policy_destroy(struct ms_srtp3_policy *policy)
{
    if (policy != NULL) {
        memset(policy->key, 0, sizeof(policy->key));
        free(policy);
    }
}

srtp_err_status_t ms_srtp3_policy_set_ssrc(struct ms_srtp3_policy *policy, srtp_ssrc_t ssrc)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;
    policy->ssrc = ssrc;
    return srtp_err_status_ok;
}

srtp_err_status_t ms_srtp3_policy_set_profile(struct ms_srtp3_policy *policy, srtp_profile_t profile)
{
    srtp_crypto_policy_t probe;
    if (policy == NULL)
        return srtp_err_status_bad_param;
    if (srtp_crypto_policy_set_from_profile_for_rtp(&probe, profile) != srtp_err_status_ok)
        return srtp_err_status_bad_param;
    policy->profile = profile;
    return srtp_err_status_ok;
}

size_t ms_srtp3_profile_get_master_key_length(srtp_profile_t profile)
{
    return srtp_profile_get_master_key_length(profile);
}

size_t ms_srtp3_profile_get_master_salt_length(srtp_profile_t profile)
{
    return srtp_profile_get_master_salt_length(profile);
}

srtp_err_status_t ms_srtp3_policy_add_key(struct ms_srtp3_policy *policy,
                                          const uint8_t *key, size_t key_len,
                                          const uint8_t *salt, size_t salt_len,
                                          const uint8_t *mki, size_t mki_len)
{
    if (policy == NULL || key == NULL || salt == NULL || policy->has_key)
        return srtp_err_status_bad_param;
    if (mki != NULL || mki_len != 0) /* MKI is not supported by this shim. */
        return srtp_err_status_bad_param;
    if (key_len + salt_len > sizeof(policy->key))
        return srtp_err_status_bad_param;
    if (policy->profile != srtp_profile_reserved &&
        (key_len != srtp_profile_get_master_key_length(policy->profile) ||
         salt_len != srtp_profile_get_master_salt_length(policy->profile)))
        return srtp_err_status_bad_param;
    memcpy(policy->key, key, key_len);
    memcpy(policy->key + key_len, salt, salt_len);
    policy->key_len = key_len + salt_len;
    policy->has_key = true;
    return srtp_err_status_ok;
}

srtp_err_status_t ms_srtp3_policy_set_allow_repeat_tx(struct ms_srtp3_policy *policy, bool allow)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;
    policy->allow_repeat_tx = allow ? 1 : 0;
    return srtp_err_status_ok;
}

srtp_err_status_t ms_srtp3_policy_set_window_size(struct ms_srtp3_policy *policy, size_t window_size)
{
    /* libsrtp2 accepts 64 <= window_size < 2^15. */
    if (policy == NULL || window_size < 64 || window_size >= 0x8000)
        return srtp_err_status_bad_param;
    policy->window_size = (unsigned long)window_size;
    return srtp_err_status_ok;
}

srtp_err_status_t ms_srtp3_create(srtp_t *session, const struct ms_srtp3_policy *policy)
{
    srtp_policy_t p;
    srtp_err_status_t err;

    if (session == NULL || policy == NULL || !policy->has_key ||
        policy->profile == srtp_profile_reserved)
        return srtp_err_status_bad_param;

    memset(&p, 0, sizeof(p));
    err = srtp_crypto_policy_set_from_profile_for_rtp(&p.rtp, policy->profile);
    if (err != srtp_err_status_ok)
        return err;
    err = srtp_crypto_policy_set_from_profile_for_rtcp(&p.rtcp, policy->profile);
    if (err != srtp_err_status_ok)
        return err;
    p.ssrc = policy->ssrc;
    p.key = (unsigned char *)policy->key; /* libsrtp2 copies it in srtp_create() */
    p.window_size = policy->window_size;
    p.allow_repeat_tx = policy->allow_repeat_tx;
    p.next = NULL;

    return srtp_create(session, &p);
}

/* libsrtp2 works in place and needs SRTP_MAX_TRAILER_LEN spare bytes. */
static srtp_err_status_t protect_common(srtp_t ctx, const uint8_t *in, size_t in_len,
                                        uint8_t *out, size_t *out_len, bool rtcp)
{
    srtp_err_status_t err;
    int len;

    if (ctx == NULL || in == NULL || out == NULL || out_len == NULL)
        return srtp_err_status_bad_param;
    if (in_len > INT_MAX - SRTP_MAX_TRAILER_LEN - 4)
        return srtp_err_status_bad_param;
    if (*out_len < in_len + SRTP_MAX_TRAILER_LEN + (rtcp ? 4 : 0))
        return (srtp_err_status_t)28; /* srtp_err_status_buffer_small */
    if (out != in)
        memmove(out, in, in_len);
    len = (int)in_len;
    err = rtcp ? srtp_protect_rtcp(ctx, out, &len) : srtp_protect(ctx, out, &len);
    if (err == srtp_err_status_ok)
        *out_len = (size_t)len;
    return err;
}

static srtp_err_status_t unprotect_common(srtp_t ctx, const uint8_t *in, size_t in_len,
                                          uint8_t *out, size_t *out_len, bool rtcp)
{
    srtp_err_status_t err;
    int len;

    if (ctx == NULL || in == NULL || out == NULL || out_len == NULL)
        return srtp_err_status_bad_param;
    if (in_len > INT_MAX)
        return srtp_err_status_bad_param;
    if (*out_len < in_len)
        return (srtp_err_status_t)28; /* srtp_err_status_buffer_small */
    if (out != in)
        memmove(out, in, in_len);
    len = (int)in_len;
    err = rtcp ? srtp_unprotect_rtcp(ctx, out, &len) : srtp_unprotect(ctx, out, &len);
    if (err == srtp_err_status_ok)
        *out_len = (size_t)len;
    return err;
}

srtp_err_status_t ms_srtp3_protect(srtp_t ctx, const uint8_t *rtp, size_t rtp_len,
                                   uint8_t *srtp, size_t *srtp_len, size_t mki_index)
{
    if (mki_index != 0)
        return srtp_err_status_bad_mki;
    return protect_common(ctx, rtp, rtp_len, srtp, srtp_len, false);
}

srtp_err_status_t ms_srtp3_unprotect(srtp_t ctx, const uint8_t *srtp, size_t srtp_len,
                                     uint8_t *rtp, size_t *rtp_len)
{
    return unprotect_common(ctx, srtp, srtp_len, rtp, rtp_len, false);
}

srtp_err_status_t ms_srtp3_protect_rtcp(srtp_t ctx, const uint8_t *rtcp, size_t rtcp_len,
                                        uint8_t *srtcp, size_t *srtcp_len, size_t mki_index)
{
    if (mki_index != 0)
        return srtp_err_status_bad_mki;
    return protect_common(ctx, rtcp, rtcp_len, srtcp, srtcp_len, true);
}

srtp_err_status_t ms_srtp3_unprotect_rtcp(srtp_t ctx, const uint8_t *srtcp, size_t srtcp_len,
                                          uint8_t *rtcp, size_t *rtcp_len)
{
    return unprotect_common(ctx, srtcp, srtcp_len, rtcp, rtcp_len, true);
}

srtp_err_status_t ms_srtp3_stream_remove(srtp_t session, uint32_t ssrc)
{
    return srtp_remove_stream(session, ssrc);
}
EOF

