/* test_secure_doc.c: the hex examples of docs/libfelica-secure-channel.md,
 * sections "Auth2's C-MAC and its answer's R-MAC, byte by byte",
 * "Secure command payloads" and "Worked example, continued: the secure
 * commands".  Every hex string below is copied verbatim from that page
 * (spaces and '|' as there), so a change on either side fails here:
 *  - the plaintext payloads decode with felica_secure_cmd.h to the fields of
 *    the page's tables, and encode back to the same bytes;
 *  - the host end of felica_sc rebuilds every command frame from its
 *    plaintext and opens every answer to its plaintext;
 *  - the chip emulator answers every command frame with the answer frame;
 *  - with OpenSSL EVP_MAC / EVP_CIPHER called directly (not through
 *    libfelica), every ICV, CMAC, decryption, key wrap and KCV is recomputed
 *    from the inputs as the page describes them, so the description of each
 *    input (chaining value, which header bytes, where ENC starts) is exact;
 *  - every hex string here is found verbatim on the page (read at run time
 *    from IDGW_SRCDIR), so neither side can change alone. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "felica_chip.h"
#include "felica_crypto.h"
#include "felica_frame.h"
#include "felica_image.h"
#include "felica_sc.h"
#include "felica_secure_cmd.h"

#define MAX_HEX 256

/* ---- the page's examples, verbatim ---- */

/* "Worked example", inputs and the diversified (chip) key set KVN 30. */
static const char IDM[] = "012E4CD300112233";
static const char A_MASTER_ENC[] = "404142434445464748494A4B4C4D4E4F";
static const char A_MASTER_MAC[] = "505152535455565758595A5B5C5D5E5F";
static const char A_MASTER_DEK[] = "606162636465666768696A6B6C6D6E6F";
static const char A_K_ENC[] = "6416A302593E738D5C4B4A423670A7F8";
static const char A_K_MAC[] = "1F45A9CD758CC49803D149AFD51B6304";
static const char A_K_DEK[] = "1E53FC0DAD361DFBD31C219D48D994F1";

/* "Session B: authentication to the system": master and chip keys, KVN 01. */
static const char B_MASTER_ENC[] = "707172737475767778797A7B7C7D7E7F";
static const char B_MASTER_MAC[] = "808182838485868788898A8B8C8D8E8F";
static const char B_MASTER_DEK[] = "909192939495969798999A9B9C9D9E9F";
static const char B_K_ENC[] = "5F4360CB2738883F70F2E83C1542CD67";
static const char B_K_MAC[] = "B8BDF536D1223E2BD2E187087BA2146B";
static const char B_K_DEK[] = "10919DB2639E032EEEEC38146AF498CF";

/* "Auth2's C-MAC and its answer's R-MAC, byte by byte". */
static const char AUTH2_CMAC_INPUT[] =
    "00000000000000000000000000000000 1BA2012E4CD300112233338D9F834ADD032948";
static const char AUTH2_CMAC[] = "FD47A00463AF40A4C7BD4928C19FE6C3";
static const char AUTH2_C_MAC[] = "FD47A00463AF40A4";
static const char AUTH2_RMAC_INPUT[] =
    "FD47A00463AF40A4C7BD4928C19FE6C3 16A3012E4CD300112233 00 00 0000";
static const char AUTH2_R_MAC[] = "5927BF36FAD18A57";

/* One secure command and its answer, as the page gives them. */
typedef struct doc_cmd {
    const char *name;
    uint8_t code;
    uint16_t counter;
    const char *plaintext, *padded, *icv_input, *icv, *enc, *chain_in, *cmac;
    const char *frame, *answer;
    /* answers with data only (Secure Read), else NULL */
    const char *res_icv_input, *res_icv, *res_padded, *res_plaintext;
} doc_cmd_t;

typedef struct doc_session {
    const char *name;
    const char *k_enc, *k_mac, *k_dek;
    uint8_t kvn;
    uint16_t area;
    const char *host_challenge;
    uint32_t seq;
    const char *s_enc, *s_mac, *s_rmac;
    const char *auth1, *auth1_res, *auth2, *auth2_res, *chain;
    doc_cmd_t cmd[2];
} doc_session_t;

static const doc_session_t SESSIONS[2] = {
    {
        "A", A_K_ENC, A_K_MAC, A_K_DEK, 0x30, 0x1100, "0001020304050607", 1,
        /* "Worked example" */
        "D8894926AE4DB87218D25FF8B1EEB1A9",
        "9C37E4E51AB898C5E9C02CD7EB643AAB",
        "2B683406B1BF755C373D4ADE53822429",
        "15 A0 012E4CD300112233 | 30 0011 0001020304050607",
        "22 A1 012E4CD300112233 | 00 00 30 03 10 0ADE11920B40E8CB 60A14798F564FAF1 000001",
        "1B A2 012E4CD300112233 | 33 8D9F834ADD032948 FD47A00463AF40A4",
        "16 A3 012E4CD300112233 | 00 00 0000 5927BF36FAD18A57",
        "FD47A00463AF40A4C7BD4928C19FE6C3",
        {
            {   /* "Session A, counter 1: Secure Write of blocks 0 and 1" */
                "secure write", FELICA_CMD_SECURE_WRITE, 1,
                "001102000001006944206361726420626C6F636B2030306944206361726420626C6F636B203031",
                "001102000001006944206361726420626C6F636B2030306944206361726420626C6F636B203031800000000000000000",
                "00000000000000000000000000000001",
                "5D12C8B58124F6C5962E96BE07CDAF4B",
                "3B706A3FC912310C3A5F7ECA7B529F0C62F6BAC9E9C772256D1F6606B58B946D3C078399C10994ED531D55262DB1286C",
                "FD47A00463AF40A4C7BD4928C19FE6C3",
                "9A1B8D85855896A80226B65DC2405D28",
                "44A6012E4CD30011223300013B706A3FC912310C3A5F7ECA7B529F0C62F6BAC9E9C772256D1F6606B58B946D3C078399C10994ED531D55262DB1286C9A1B8D85855896A8",
                "16A7012E4CD30011223300000001AF8A9D9DA81BD8DE",
                NULL, NULL, NULL, NULL
            },
            {   /* "Session A, counter 2: Secure Read of blocks 0 and 1" */
                "secure read", FELICA_CMD_SECURE_READ, 2,
                "00110200000100",
                "00110200000100800000000000000000",
                "00000000000000000000000000000002",
                "8E39FD289FA86706D03E8F58300E5217",
                "20D7F1A39356A23C2B97B4682597FE66",
                "9A1B8D85855896A80226B65DC2405D28",
                "085A3A48BBBC5E0F2AE5F50EF73DD35B",
                "24A4012E4CD300112233000220D7F1A39356A23C2B97B4682597FE66085A3A48BBBC5E0F",
                "46A5012E4CD30011223300000002886BB9F53AD512D7774E63736117FF7871A4DFE5600600863C90AC722EB257C5E3A5A4124A084EBB703717B4D34F0E82C96D6C3DCC871046",
                "80000000000000000000000000000002",
                "5D3673FED337FD08241675B97EB3C4FF",
                "026944206361726420626C6F636B2030306944206361726420626C6F636B203031800000000000000000000000000000",
                "026944206361726420626C6F636B2030306944206361726420626C6F636B203031"
            }
        }
    },
    {
        "B", B_K_ENC, B_K_MAC, B_K_DEK, 0x01, FELICA_AREA_SYSTEM, "08090A0B0C0D0E0F", 2,
        /* "Session B: authentication to the system" */
        "359606381DEA3121D8D46CB56A0ABC68",
        "EE872D2D6F7ECAC51E07BDE1B13E608B",
        "3D452A2978859EF87F7E7D108CE733F7",
        "15 A0 012E4CD300112233 | 01 FFFF 08090A0B0C0D0E0F",
        "22 A1 012E4CD300112233 | 00 00 01 03 10 9A4FBF7711D6F5C4 0257CBDBA9359F46 000002",
        "1B A2 012E4CD300112233 | 33 45D0BC75F4D40888 54E7D73B7271ECA2",
        "16 A3 012E4CD300112233 | 00 00 0000 CBFB09D612DC4733",
        "54E7D73B7271ECA2B0F3A7C5DE3110A9",
        {
            {   /* "Session B, counter 1: Delete Area 0x1100" */
                "delete area", FELICA_CMD_DELETE_AREA, 1,
                "0011",
                "00118000000000000000000000000000",
                "00000000000000000000000000000001",
                "212873BF26157CECA2D8A0E248CD29DE",
                "9E818E42C656AB9BD9BF1DEC3A1AC306",
                "54E7D73B7271ECA2B0F3A7C5DE3110A9",
                "2097A55D8459F52C2197241774F5AE67",
                "24AA012E4CD30011223300019E818E42C656AB9BD9BF1DEC3A1AC3062097A55D8459F52C",
                "16AB012E4CD30011223300000001B9CA9319AB802AEF",
                NULL, NULL, NULL, NULL
            },
            {   /* "Session B, counter 2: Create Area 0x1100" */
                "create area", FELICA_CMD_CREATE_AREA, 2,
                "00111000302C2F84604B1DFD6FE64F6D02C8544207D0D1BA999EE60FC0ABFF15B9C4403F9BEBA0307ECA9661FA89FF9A632AF8F83C6F9C965EF9AA27E334",
                "00111000302C2F84604B1DFD6FE64F6D02C8544207D0D1BA999EE60FC0ABFF15B9C4403F9BEBA0307ECA9661FA89FF9A632AF8F83C6F9C965EF9AA27E334"
                "8000",   /* "plaintext || 8000" */
                "00000000000000000000000000000002",
                "37D9DA66C1E1225EC938F09402EF84C2",
                "FB12C365698F2927F1B02E4D50202FF8D413C7F2B6E7605BF4BCBFE027A2C21D7E34DE24DBCC881B2F41E4A7DB110A126F533A16B1101456BE86AD90F0EF0901",
                "2097A55D8459F52C2197241774F5AE67",
                "5E09FF58D2BDF88C8E989C9C59CB467A",
                "54A8012E4CD3001122330002FB12C365698F2927F1B02E4D50202FF8D413C7F2B6E7605BF4BCBFE027A2C21D7E34DE24DBCC881B2F41E4A7DB110A126F533A16B1101456BE86AD90F0EF09015E09FF58D2BDF88C",
                "16A9012E4CD30011223300000002A49ECB48F0694CE3",
                NULL, NULL, NULL, NULL
            }
        }
    }
};

/* "Session B, counter 2: Create Area 0x1100": the plaintext's fields. */
static const char CA_WRAP_ENC[] = "2C2F84604B1DFD6FE64F6D02C8544207";
static const char CA_WRAP_MAC[] = "D0D1BA999EE60FC0ABFF15B9C4403F9B";
static const char CA_WRAP_DEK[] = "EBA0307ECA9661FA89FF9A632AF8F83C";
static const char CA_KCV_ENC[] = "6F9C96";
static const char CA_KCV_MAC[] = "5EF9AA";
static const char CA_KCV_DEK[] = "27E334";

/* "Session A, counter 1": DATA[0] and DATA[1]. */
static const char DATA0[] = "6944206361726420626C6F636B203030";
static const char DATA1[] = "6944206361726420626C6F636B203031";

/* ---- helpers ---- */

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Hex as the page prints it (spaces and '|' separate fields) to bytes. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1, v;

    for (; *hex != '\0'; hex++) {
        if (*hex == ' ' || *hex == '|')
            continue;
        v = nibble(*hex);
        ck_assert_msg(v >= 0, "not hex: '%c'", *hex);
        if (hi < 0) {
            hi = v;
            continue;
        }
        ck_assert_uint_lt(n, cap);
        out[n++] = (uint8_t)(hi << 4 | v);
        hi = -1;
    }
    ck_assert_msg(hi < 0, "odd number of hex digits");
    return n;
}

static void key16(const char *hex, uint8_t key[16])
{
    ck_assert_uint_eq(unhex(hex, key, 16), 16);
}

static void assert_bytes(const uint8_t *got, size_t len, const char *hex)
{
    uint8_t want[MAX_HEX];
    size_t n = unhex(hex, want, sizeof want);

    ck_assert_uint_eq(len, n);
    ck_assert_mem_eq(got, want, n);
}

/* AES-CMAC with EVP_MAC directly. */
static void evp_cmac(const uint8_t key[16], const uint8_t *msg, size_t len, uint8_t mac[16])
{
    EVP_MAC *m = EVP_MAC_fetch(NULL, "CMAC", NULL);
    EVP_MAC_CTX *ctx;
    OSSL_PARAM params[2];
    size_t out = 0;

    ck_assert_ptr_nonnull(m);
    ctx = EVP_MAC_CTX_new(m);
    ck_assert_ptr_nonnull(ctx);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)"AES-128-CBC", 0);
    params[1] = OSSL_PARAM_construct_end();
    ck_assert_int_eq(EVP_MAC_init(ctx, key, 16, params), 1);
    ck_assert_int_eq(EVP_MAC_update(ctx, msg, len), 1);
    ck_assert_int_eq(EVP_MAC_final(ctx, mac, &out, 16), 1);
    ck_assert_uint_eq(out, 16);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(m);
}

/* AES-128 ECB or CBC without padding, with EVP_CIPHER directly. */
static void evp_aes(const char *alg, int enc, const uint8_t key[16], const uint8_t *iv,
                    const uint8_t *in, size_t len, uint8_t *out)
{
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, alg, NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, f = 0;

    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(EVP_CipherInit_ex2(ctx, c, key, iv, enc, NULL), 1);
    ck_assert_int_eq(EVP_CIPHER_CTX_set_padding(ctx, 0), 1);
    ck_assert_int_eq(EVP_CipherUpdate(ctx, out, &n, in, (int)len), 1);
    ck_assert_int_eq(EVP_CipherFinal_ex(ctx, out + n, &f), 1);
    ck_assert_uint_eq((size_t)(n + f), len);
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(c);
}

static void keyset_of(const doc_session_t *s, felica_keyset_t *ks)
{
    memset(ks, 0, sizeof *ks);
    ks->kvn = s->kvn;
    key16(s->k_enc, ks->enc);
    key16(s->k_mac, ks->mac);
    key16(s->k_dek, ks->dek);
}

/* ---- tests ---- */

/* The page itself, read from the source tree. */
static char *read_page(void)
{
    FILE *f = fopen(IDGW_SRCDIR "/docs/libfelica-secure-channel.md", "r");
    char *text;
    long n;

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    ck_assert_int_gt(n, 0);
    rewind(f);
    text = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    return text;
}

static void assert_on_page(const char *page, const char *hex)
{
    ck_assert_msg(strstr(page, hex) != NULL, "not in docs/libfelica-secure-channel.md: %s", hex);
}

/* Every string above is the page's, verbatim: the page cannot change
 * without this file (and the checks below) following. */
START_TEST(every_example_is_on_the_page)
{
    const char *single[] = {
        IDM, A_MASTER_ENC, A_MASTER_MAC, A_MASTER_DEK, A_K_ENC, A_K_MAC, A_K_DEK,
        B_MASTER_ENC, B_MASTER_MAC, B_MASTER_DEK, B_K_ENC, B_K_MAC, B_K_DEK,
        AUTH2_CMAC_INPUT, AUTH2_CMAC, AUTH2_C_MAC, AUTH2_RMAC_INPUT, AUTH2_R_MAC,
        CA_WRAP_ENC, CA_WRAP_MAC, CA_WRAP_DEK, CA_KCV_ENC, CA_KCV_MAC, CA_KCV_DEK,
        DATA0, DATA1
    };
    char *page = read_page();
    size_t i;
    int si, ci;

    for (i = 0; i < sizeof single / sizeof single[0]; i++)
        assert_on_page(page, single[i]);
    for (si = 0; si < 2; si++) {
        const doc_session_t *s = &SESSIONS[si];
        const char *f[] = { s->host_challenge, s->s_enc, s->s_mac, s->s_rmac, s->auth1,
                            s->auth1_res, s->auth2, s->auth2_res, s->chain };

        for (i = 0; i < sizeof f / sizeof f[0]; i++)
            assert_on_page(page, f[i]);
        for (ci = 0; ci < 2; ci++) {
            const doc_cmd_t *c = &s->cmd[ci];
            const char *g[] = { c->plaintext, c->icv_input, c->icv, c->enc, c->chain_in,
                                c->cmac, c->frame, c->answer, c->res_icv_input, c->res_icv,
                                c->res_padded, c->res_plaintext };

            /* Create Area's padded form is printed as "plaintext || 8000" */
            if (c->code != FELICA_CMD_CREATE_AREA)
                assert_on_page(page, c->padded);
            for (i = 0; i < sizeof g / sizeof g[0]; i++)
                if (g[i] != NULL)
                    assert_on_page(page, g[i]);
        }
    }
    assert_on_page(page, "plaintext || 8000");
    free(page);
}
END_TEST

/* "Worked example" and "Session B": the chip keys are the diversified master keys. */
START_TEST(chip_keys_are_diversified_master_keys)
{
    const char *master[2][3] = { { A_MASTER_ENC, A_MASTER_MAC, A_MASTER_DEK },
                                 { B_MASTER_ENC, B_MASTER_MAC, B_MASTER_DEK } };
    felica_keyset_t m, chip;
    uint8_t idm[8];
    int i;

    unhex(IDM, idm, 8);
    for (i = 0; i < 2; i++) {
        m.kvn = SESSIONS[i].kvn;
        key16(master[i][0], m.enc);
        key16(master[i][1], m.mac);
        key16(master[i][2], m.dek);
        ck_assert_int_eq(felica_keys_diversify(&m, idm, &chip), FELICA_OK);
        assert_bytes(chip.enc, 16, SESSIONS[i].k_enc);
        assert_bytes(chip.mac, 16, SESSIONS[i].k_mac);
        assert_bytes(chip.dek, 16, SESSIONS[i].k_dek);
    }
}
END_TEST

/* "Auth2's C-MAC and its answer's R-MAC, byte by byte". */
START_TEST(auth2_mac_inputs_exact)
{
    static const uint8_t zero[16];
    const doc_session_t *s;
    uint8_t in[MAX_HEX], pkt[MAX_HEX], key[16], mac[16], lib[16];
    size_t in_len, pkt_len;
    int i;

    s = &SESSIONS[0];
    /* the C-MAC input is 16 zero bytes, then the Auth2 packet without its C-MAC */
    in_len = unhex(AUTH2_CMAC_INPUT, in, sizeof in);
    pkt_len = unhex(s->auth2, pkt, sizeof pkt);
    ck_assert_uint_eq(in_len, 35);
    ck_assert_uint_eq(pkt_len, 27);
    ck_assert_uint_eq(pkt[0], pkt_len);                 /* LEN counts the C-MAC */
    ck_assert_mem_eq(in, zero, 16);
    ck_assert_mem_eq(in + 16, pkt, pkt_len - 8);
    key16(s->s_mac, key);
    evp_cmac(key, in, in_len, mac);
    assert_bytes(mac, 16, AUTH2_CMAC);
    assert_bytes(mac, 8, AUTH2_C_MAC);
    ck_assert_mem_eq(pkt + pkt_len - 8, mac, 8);
    assert_bytes(mac, 16, s->chain);
    ck_assert_int_eq(felica_aes_cmac(key, 16, in, in_len, lib), FELICA_OK);
    ck_assert_mem_eq(lib, mac, 16);

    /* the R-MAC input is that chain value, then the answer without its R-MAC */
    in_len = unhex(AUTH2_RMAC_INPUT, in, sizeof in);
    pkt_len = unhex(s->auth2_res, pkt, sizeof pkt);
    ck_assert_uint_eq(in_len, 30);
    ck_assert_uint_eq(pkt_len, 22);
    ck_assert_uint_eq(pkt[0], pkt_len);
    assert_bytes(in, 16, AUTH2_CMAC);
    ck_assert_mem_eq(in + 16, pkt, pkt_len - 8);
    key16(s->s_rmac, key);
    evp_cmac(key, in, in_len, mac);
    assert_bytes(mac, 8, AUTH2_R_MAC);
    ck_assert_mem_eq(pkt + pkt_len - 8, mac, 8);

    /* both sessions: the documented chain and MACs follow from the packets */
    for (i = 0; i < 2; i++) {
        s = &SESSIONS[i];
        pkt_len = unhex(s->auth2, pkt, sizeof pkt);
        memset(in, 0, 16);
        memcpy(in + 16, pkt, pkt_len - 8);
        key16(s->s_mac, key);
        evp_cmac(key, in, 16 + pkt_len - 8, mac);
        assert_bytes(mac, 16, s->chain);
        ck_assert_mem_eq(pkt + pkt_len - 8, mac, 8);
        pkt_len = unhex(s->auth2_res, pkt, sizeof pkt);
        memcpy(in, mac, 16);
        memcpy(in + 16, pkt, pkt_len - 8);
        key16(s->s_rmac, key);
        evp_cmac(key, in, 16 + pkt_len - 8, mac);
        ck_assert_mem_eq(pkt + pkt_len - 8, mac, 8);
    }
}
END_TEST

/* "Secure command payloads" and the plaintext tables of the examples. */
START_TEST(payloads_decode_to_documented_fields)
{
    uint8_t p[MAX_HEX], again[MAX_HEX], key[16], kcv[3], dek[16], unwrapped[16], block[16];
    const char *keys[3] = { A_K_ENC, A_K_MAC, A_K_DEK };
    const char *wraps[3] = { CA_WRAP_ENC, CA_WRAP_MAC, CA_WRAP_DEK };
    const char *kcvs[3] = { CA_KCV_ENC, CA_KCV_MAC, CA_KCV_DEK };
    const uint8_t *got_wrap[3], *got_kcv[3];
    felica_secure_rw_t rw;
    felica_create_area_t ca;
    uint16_t area = 0;
    size_t n, m;
    int i;

    /* Secure Write: AREA 0011 | N 02 | BLOCK 0000 0100 | DATA[0] DATA[1] */
    n = unhex(SESSIONS[0].cmd[0].plaintext, p, sizeof p);
    ck_assert_uint_eq(n, 39);
    ck_assert_int_eq(felica_secure_write_decode(p, n, &rw), FELICA_OK);
    ck_assert_uint_eq(rw.area, 0x1100);
    ck_assert_uint_eq(rw.n, 2);
    ck_assert_uint_eq(rw.block[0], 0);
    ck_assert_uint_eq(rw.block[1], 1);
    assert_bytes(rw.data[0], 16, DATA0);
    assert_bytes(rw.data[1], 16, DATA1);
    ck_assert_mem_eq(rw.data[0], "iD card block 00", 16);
    ck_assert_mem_eq(rw.data[1], "iD card block 01", 16);
    ck_assert_int_eq(felica_secure_write_encode(&rw, again, sizeof again, &m), FELICA_OK);
    ck_assert_uint_eq(m, n);
    ck_assert_mem_eq(again, p, n);

    /* Secure Read: AREA 0011 | N 02 | BLOCK 0000 0100 */
    n = unhex(SESSIONS[0].cmd[1].plaintext, p, sizeof p);
    ck_assert_uint_eq(n, 7);
    ck_assert_int_eq(felica_secure_read_decode(p, n, &rw), FELICA_OK);
    ck_assert_uint_eq(rw.area, 0x1100);
    ck_assert_uint_eq(rw.n, 2);
    ck_assert_uint_eq(rw.block[0], 0);
    ck_assert_uint_eq(rw.block[1], 1);
    ck_assert_int_eq(felica_secure_read_encode(&rw, again, sizeof again, &m), FELICA_OK);
    ck_assert_uint_eq(m, n);
    ck_assert_mem_eq(again, p, n);

    /* Secure Read answer: N 02 | DATA[0] DATA[1] */
    n = unhex(SESSIONS[0].cmd[1].res_plaintext, p, sizeof p);
    ck_assert_uint_eq(n, 33);
    ck_assert_int_eq(felica_secure_read_res_decode(p, n, &rw), FELICA_OK);
    ck_assert_uint_eq(rw.n, 2);
    assert_bytes(rw.data[0], 16, DATA0);
    assert_bytes(rw.data[1], 16, DATA1);
    ck_assert_int_eq(felica_secure_read_res_encode(&rw, again, sizeof again, &m), FELICA_OK);
    ck_assert_uint_eq(m, n);
    ck_assert_mem_eq(again, p, n);

    /* Delete Area: AREA 0011 */
    n = unhex(SESSIONS[1].cmd[0].plaintext, p, sizeof p);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(felica_delete_area_decode(p, n, &area), FELICA_OK);
    ck_assert_uint_eq(area, 0x1100);

    /* Create Area: the table, offset by offset */
    n = unhex(SESSIONS[1].cmd[1].plaintext, p, sizeof p);
    ck_assert_uint_eq(n, 62);
    ck_assert_int_eq(felica_create_area_decode(p, n, &ca), FELICA_OK);
    ck_assert_uint_eq(ca.area, 0x1100);
    ck_assert_uint_eq(ca.n_blocks, 16);
    ck_assert_uint_eq(ca.kvn, 0x30);
    got_wrap[0] = ca.wrapped_enc; got_wrap[1] = ca.wrapped_mac; got_wrap[2] = ca.wrapped_dek;
    got_kcv[0] = ca.kcv_enc; got_kcv[1] = ca.kcv_mac; got_kcv[2] = ca.kcv_dek;
    key16(B_K_DEK, dek);
    memset(block, 0x01, sizeof block);
    for (i = 0; i < 3; i++) {
        assert_bytes(got_wrap[i], 16, wraps[i]);
        assert_bytes(p + 5 + 16 * i, 16, wraps[i]);          /* offsets 5, 21, 37 */
        assert_bytes(got_kcv[i], 3, kcvs[i]);
        assert_bytes(p + 53 + 3 * i, 3, kcvs[i]);            /* offsets 53, 56, 59 */
        /* WRAP(K) = AES(system K-DEK, K), KCV(K) = AES(K, 16 * 01)[0..3), by EVP */
        key16(keys[i], key);
        evp_aes("AES-128-ECB", 1, dek, NULL, key, 16, unwrapped);
        assert_bytes(unwrapped, 16, wraps[i]);
        evp_aes("AES-128-ECB", 1, key, NULL, block, 16, unwrapped);
        assert_bytes(unwrapped, 3, kcvs[i]);
        /* and the chip's way back */
        ck_assert_int_eq(felica_key_unwrap(dek, got_wrap[i], unwrapped), FELICA_OK);
        ck_assert_mem_eq(unwrapped, key, 16);
        ck_assert_int_eq(felica_kcv(unwrapped, kcv), FELICA_OK);
        ck_assert_mem_eq(kcv, got_kcv[i], 3);
    }
    ck_assert_int_eq(felica_create_area_encode(&ca, again, sizeof again, &m), FELICA_OK);
    ck_assert_uint_eq(m, n);
    ck_assert_mem_eq(again, p, n);
}
END_TEST

/* Every ICV, CMAC and decryption of the examples, by EVP, from the inputs as
 * the page describes them. */
START_TEST(frames_recomputed_independently)
{
    uint8_t s_enc[16], s_mac[16], s_rmac[16], chain[16], icv[16], icv_in[16], mac[16];
    uint8_t plain[MAX_HEX], padded[MAX_HEX], enc[MAX_HEX], frame[MAX_HEX], answer[MAX_HEX];
    uint8_t buf[16 + MAX_HEX], out[MAX_HEX];
    size_t pl, padl, encl, fl, al, i;
    int si, ci;

    for (si = 0; si < 2; si++) {
        const doc_session_t *s = &SESSIONS[si];

        key16(s->s_enc, s_enc);
        key16(s->s_mac, s_mac);
        key16(s->s_rmac, s_rmac);
        key16(s->chain, chain);
        for (ci = 0; ci < 2; ci++) {
            const doc_cmd_t *c = &s->cmd[ci];

            /* the first command chains from Auth2, the second from the first */
            assert_bytes(chain, 16, c->chain_in);
            pl = unhex(c->plaintext, plain, sizeof plain);
            padl = unhex(c->padded, padded, sizeof padded);
            encl = unhex(c->enc, enc, sizeof enc);
            fl = unhex(c->frame, frame, sizeof frame);
            al = unhex(c->answer, answer, sizeof answer);

            /* method 2: plaintext, 80, zeros to the next multiple of 16 */
            ck_assert_uint_eq(padl, (pl / 16 + 1) * 16);
            ck_assert_mem_eq(padded, plain, pl);
            ck_assert_uint_eq(padded[pl], 0x80);
            for (i = pl + 1; i < padl; i++)
                ck_assert_uint_eq(padded[i], 0);
            ck_assert_uint_eq(encl, padl);

            /* command ICV = AES(S-ENC, 00 * 14 || CTR) */
            memset(icv_in, 0, 16);
            icv_in[14] = (uint8_t)(c->counter >> 8);
            icv_in[15] = (uint8_t)c->counter;
            assert_bytes(icv_in, 16, c->icv_input);
            evp_aes("AES-128-ECB", 1, s_enc, NULL, icv_in, 16, icv);
            assert_bytes(icv, 16, c->icv);
            evp_aes("AES-128-CBC", 1, s_enc, icv, padded, padl, out);
            ck_assert_mem_eq(out, enc, encl);
            evp_aes("AES-128-CBC", 0, s_enc, icv, enc, encl, out);
            ck_assert_mem_eq(out, padded, padl);

            /* frame = LEN CODE IDm | CTR(2, BE) | ENC | C-MAC */
            ck_assert_uint_eq(fl, 20 + encl);
            ck_assert_uint_eq(frame[0], fl);
            ck_assert_uint_eq(frame[1], c->code);
            assert_bytes(frame + 2, 8, IDM);
            ck_assert_uint_eq(frame[10], c->counter >> 8);
            ck_assert_uint_eq(frame[11], c->counter & 0xFF);
            ck_assert_mem_eq(frame + 12, enc, encl);

            /* C-MAC: CMAC(S-MAC, chain || LEN .. last byte of ENC) */
            memcpy(buf, chain, 16);
            memcpy(buf + 16, frame, fl - 8);
            evp_cmac(s_mac, buf, 16 + fl - 8, mac);
            assert_bytes(mac, 16, c->cmac);
            ck_assert_mem_eq(frame + fl - 8, mac, 8);
            memcpy(chain, mac, 16);

            /* answer = LEN CODE+1 IDm | 00 00 | CTR | ENC | R-MAC */
            ck_assert_uint_eq(answer[0], al);
            ck_assert_uint_eq(answer[1], c->code + 1);
            assert_bytes(answer + 2, 8, IDM);
            ck_assert_uint_eq(answer[10], 0);
            ck_assert_uint_eq(answer[11], 0);
            ck_assert_uint_eq(answer[12], c->counter >> 8);
            ck_assert_uint_eq(answer[13], c->counter & 0xFF);
            memcpy(buf, chain, 16);
            memcpy(buf + 16, answer, al - 8);
            evp_cmac(s_rmac, buf, 16 + al - 8, mac);
            ck_assert_mem_eq(answer + al - 8, mac, 8);
            if (c->res_plaintext == NULL) {
                ck_assert_uint_eq(al, 22);      /* empty: no cipher block */
                continue;
            }
            /* response ICV = AES(S-ENC, 80 || 00 * 13 || CTR) */
            icv_in[0] = 0x80;
            assert_bytes(icv_in, 16, c->res_icv_input);
            evp_aes("AES-128-ECB", 1, s_enc, NULL, icv_in, 16, icv);
            assert_bytes(icv, 16, c->res_icv);
            ck_assert_uint_eq((al - 22) % 16, 0);
            evp_aes("AES-128-CBC", 0, s_enc, icv, answer + 14, al - 22, out);
            assert_bytes(out, al - 22, c->res_padded);
            pl = unhex(c->res_plaintext, plain, sizeof plain);
            ck_assert_uint_eq(al - 22, (pl / 16 + 1) * 16);
            ck_assert_mem_eq(out, plain, pl);
            ck_assert_uint_eq(out[pl], 0x80);
            for (i = pl + 1; i < al - 22; i++)
                ck_assert_uint_eq(out[i], 0);
        }
    }
}
END_TEST

/* The host end, from the documented keys and challenges: every packet it
 * builds is the page's, every answer opens to the page's plaintext. */
START_TEST(host_end_builds_and_opens_the_frames)
{
    uint8_t idm[8], hc[8], pkt[MAX_HEX], want[MAX_HEX], plain[MAX_HEX], got[MAX_HEX];
    felica_keyset_t ks;
    felica_sc_t host;
    size_t len, wl, pl, gl;
    uint8_t sf1, sf2;
    int si, ci;

    unhex(IDM, idm, 8);
    for (si = 0; si < 2; si++) {
        const doc_session_t *s = &SESSIONS[si];

        keyset_of(s, &ks);
        unhex(s->host_challenge, hc, 8);
        ck_assert_int_eq(felica_sc_host_begin(&host, idm, s->area, &ks, hc), FELICA_OK);
        ck_assert_int_eq(felica_sc_host_auth1(&host, pkt, sizeof pkt, &len), FELICA_OK);
        assert_bytes(pkt, len, s->auth1);
        wl = unhex(s->auth1_res, want, sizeof want);
        ck_assert_int_eq(felica_sc_host_auth1_done(&host, want, wl), FELICA_OK);
        ck_assert_uint_eq(host.seq_counter, s->seq);
        assert_bytes(host.s_enc, 16, s->s_enc);
        assert_bytes(host.s_mac, 16, s->s_mac);
        assert_bytes(host.s_rmac, 16, s->s_rmac);
        ck_assert_int_eq(felica_sc_host_auth2(&host, FELICA_SL_FULL, pkt, sizeof pkt, &len),
                         FELICA_OK);
        assert_bytes(pkt, len, s->auth2);
        assert_bytes(host.mac_chain, 16, s->chain);
        wl = unhex(s->auth2_res, want, sizeof want);
        ck_assert_int_eq(felica_sc_host_auth2_done(&host, want, wl), FELICA_OK);
        for (ci = 0; ci < 2; ci++) {
            const doc_cmd_t *c = &s->cmd[ci];

            pl = unhex(c->plaintext, plain, sizeof plain);
            ck_assert_int_eq(felica_sc_host_wrap(&host, c->code, plain, pl, pkt, sizeof pkt, &len),
                             FELICA_OK);
            assert_bytes(pkt, len, c->frame);
            assert_bytes(host.mac_chain, 16, c->cmac);
            wl = unhex(c->answer, want, sizeof want);
            sf1 = sf2 = 0xEE;
            ck_assert_int_eq(felica_sc_host_unwrap(&host, want, wl, got, sizeof got, &gl,
                                                   &sf1, &sf2), FELICA_OK);
            ck_assert_uint_eq(sf1, 0);
            ck_assert_uint_eq(sf2, 0);
            if (c->res_plaintext == NULL)
                ck_assert_uint_eq(gl, 0);
            else
                assert_bytes(got, gl, c->res_plaintext);
        }
        felica_sc_wipe(&host);
    }
    felica_wipe(&ks, sizeof ks);
}
END_TEST

/* The chip emulator, on an image with the documented keys and a 16-block
 * area 0x1100 and a fresh sequence counter, answers each documented command
 * frame with the documented answer frame, in the page's order. */
START_TEST(chip_emulator_answers_the_frames)
{
    static const uint8_t pmm[8] = { 0x01, 0x20, 0x22, 0x04, 0x27, 0x67, 0x4E, 0xFF };
    const felica_area_state_t *a;
    felica_image_t *img = calloc(1, sizeof *img);
    felica_keyset_t sys, area;
    felica_chip_t *chip = NULL;
    uint8_t idm[8], cmd[MAX_HEX], res[FELICA_MAX_FRAME], zero[16] = { 0 };
    size_t cl, rl;
    int si, ci, b;

    ck_assert_ptr_nonnull(img);
    unhex(IDM, idm, 8);
    keyset_of(&SESSIONS[0], &area);
    keyset_of(&SESSIONS[1], &sys);
    felica_image_init(img, idm, pmm, 0x88B4);
    ck_assert_int_eq(felica_image_add_keyset(img, FELICA_AREA_SYSTEM, &sys), FELICA_OK);
    ck_assert_int_eq(felica_image_add_area(img, 0x1100, FELICA_ACCESS_KEYED, 16), FELICA_OK);
    ck_assert_int_eq(felica_image_add_keyset(img, 0x1100, &area), FELICA_OK);
    ck_assert_int_eq(felica_chip_new(img, NULL, &chip), FELICA_OK);
    felica_image_wipe(img);
    free(img);

    for (si = 0; si < 2; si++) {
        const doc_session_t *s = &SESSIONS[si];
        const char *steps[6][2] = {
            { s->auth1, s->auth1_res }, { s->auth2, s->auth2_res },
            { s->cmd[0].frame, s->cmd[0].answer }, { s->cmd[1].frame, s->cmd[1].answer },
            { NULL, NULL }, { NULL, NULL }
        };

        for (ci = 0; steps[ci][0] != NULL; ci++) {
            cl = unhex(steps[ci][0], cmd, sizeof cmd);
            ck_assert_int_eq(felica_chip_process(chip, cmd, cl, res, sizeof res, &rl), FELICA_OK);
            assert_bytes(res, rl, steps[ci][1]);
        }
        ck_assert_uint_eq(felica_chip_image(chip)->seq_counter, s->seq);
    }
    /* "The chip now holds area 0x1100 again, 16 zero blocks, key set KVN 30." */
    a = felica_image_find_area_const(felica_chip_image(chip), 0x1100);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(a->access, FELICA_ACCESS_KEYED);
    ck_assert_uint_eq(a->n_blocks, 16);
    for (b = 0; b < 16; b++)
        ck_assert_mem_eq(a->blocks[b], zero, 16);
    ck_assert_uint_eq(a->n_keysets, 1);
    ck_assert_uint_eq(a->keys[0].kvn, 0x30);
    ck_assert_mem_eq(a->keys[0].enc, area.enc, 16);
    ck_assert_mem_eq(a->keys[0].mac, area.mac, 16);
    ck_assert_mem_eq(a->keys[0].dek, area.dek, 16);
    felica_chip_free(chip);
    felica_wipe(&sys, sizeof sys);
    felica_wipe(&area, sizeof area);
}
END_TEST

static Suite *secure_doc_suite(void)
{
    Suite *s = suite_create("felica_secure_doc");
    TCase *tc = tcase_create("doc_examples");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_example_is_on_the_page);
    tcase_add_test(tc, chip_keys_are_diversified_master_keys);
    tcase_add_test(tc, auth2_mac_inputs_exact);
    tcase_add_test(tc, payloads_decode_to_documented_fields);
    tcase_add_test(tc, frames_recomputed_independently);
    tcase_add_test(tc, host_end_builds_and_opens_the_frames);
    tcase_add_test(tc, chip_emulator_answers_the_frames);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(secure_doc_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
