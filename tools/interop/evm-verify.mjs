// Compiles a Solidity verifier written by `portrelay zk export-verifier
// --solidity` with solc, deploys it in the ethereumjs EVM (BN254 precompiles
// 0x06-0x08 included) and calls verifyProof with a snarkjs proof.json and
// public.json, encoded the way `snarkjs zkey export soliditycalldata` does.
//
//   node evm-verify.mjs Verifier.sol ContractName proof.json public.json
//
// Prints `verifyProof: true` or `verifyProof: false` and the gas used; exits
// 0 either way, 3 when the contract does not compile, deploy or answer.
import { readFileSync } from 'node:fs';
import solc from 'solc';
import { createEVM } from '@ethereumjs/evm';

const [source, name, proofPath, publicPath] = process.argv.slice(2);
if (!publicPath) {
  console.error('usage: node evm-verify.mjs Verifier.sol ContractName proof.json public.json');
  process.exit(2);
}

const input = {
  language: 'Solidity',
  sources: { 'Verifier.sol': { content: readFileSync(source, 'utf8') } },
  settings: {
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { '*': { '*': ['evm.bytecode.object', 'evm.methodIdentifiers'] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
if (errors.length > 0) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(3);
}
const warnings = (output.errors ?? []).filter((e) => e.severity !== 'error');
for (const w of warnings) console.error(`solc ${w.severity}: ${w.message}`);
const contract = output.contracts['Verifier.sol'][name];
if (!contract) {
  console.error(`no contract ${name} in ${source}`);
  process.exit(3);
}

const proof = JSON.parse(readFileSync(proofPath, 'utf8'));
const inputs = JSON.parse(readFileSync(publicPath, 'utf8'));
const word = (dec) => BigInt(dec).toString(16).padStart(64, '0');
// snarkjs' calldata: B's coordinates imaginary part first.
const words = [
  proof.pi_a[0], proof.pi_a[1],
  proof.pi_b[0][1], proof.pi_b[0][0], proof.pi_b[1][1], proof.pi_b[1][0],
  proof.pi_c[0], proof.pi_c[1],
  ...inputs,
];
const signature = Object.keys(contract.evm.methodIdentifiers).find((s) => s.startsWith('verifyProof('));
const selector = contract.evm.methodIdentifiers[signature];
const calldata = Buffer.from(selector + words.map(word).join(''), 'hex');

const evm = await createEVM();
const deployed = await evm.runCall({
  data: Buffer.from(contract.evm.bytecode.object, 'hex'),
  gasLimit: 10_000_000n,
});
if (deployed.execResult.exceptionError || !deployed.createdAddress) {
  console.error(`deployment failed: ${deployed.execResult.exceptionError?.error}`);
  process.exit(3);
}
const call = await evm.runCall({ to: deployed.createdAddress, data: calldata, gasLimit: 10_000_000n });
if (call.execResult.exceptionError) {
  console.error(`verifyProof reverted: ${call.execResult.exceptionError.error}`);
  process.exit(3);
}
const ret = Buffer.from(call.execResult.returnValue).toString('hex');
console.log(`verifyProof: ${BigInt('0x' + ret) === 1n}`);
console.log(`gas: ${call.execResult.executionGasUsed}`);
