/**
 * How the engine's end is told when it says nothing itself: torchrun's report
 * (as torch 1.13 writes it on stderr) names the process that failed first,
 * not the ones that then lost their peer.
 */
import { describe, expect, it } from 'vitest';
import { describeEngineExit, engineCommand } from './launch';

const python = {
  command: '/usr/bin/python3',
  python: '/usr/bin/python3',
  pythonVersion: '3.11.2',
  torch: '1.13.0',
  passedOver: [],
};

/** torchrun's stderr after rank 1 was killed and rank 0 then failed on the closed connection. */
const report = [
  '[default0]:RuntimeError: [/build/gloo/transport/tcp/pair.cc:598] Connection closed by peer [127.0.0.1]:13473',
  'ERROR:torch.distributed.elastic.multiprocessing.api:failed (exitcode: 1) local_rank: 0 (pid: 3295) of binary: /usr/bin/python3',
  'ERROR:torch.distributed.elastic.multiprocessing.api:failed (exitcode: -9) local_rank: 1 (pid: 3296) of binary: /usr/bin/python3',
  'Root Cause (first observed failure):',
  '[0]:',
  '  rank      : 0 (local_rank: 0)',
  '[1]:',
  '  rank      : 1 (local_rank: 1)',
];

describe('the end of the PyTorch engine', () => {
  it('names the rank killed by a signal, not the one that lost its peer', () => {
    expect(describeEngineExit({ code: 1, signal: null, stderrTail: report }, true)).toBe(
      'the PyTorch process of rank 1 (pid 3296) was killed by SIGKILL (the system does this when memory runs out, or someone ended it), so torchrun ended the run',
    );
  });

  it('passes over the ranks that said they lost a peer', () => {
    const exits = report.map((line) => line.replace('exitcode: -9', 'exitcode: 1'));
    const reports = { localWorld: 2, multiNode: false, peers: new Set([0]) };
    expect(describeEngineExit({ code: 1, signal: null, stderrTail: exits }, true, reports)).toMatch(
      /^the PyTorch process of rank 1 \(pid 3296\) exited with code 1, so torchrun ended the run/,
    );
  });

  it('names the process that said nothing when torchrun saw only the one that lost it', () => {
    // torchrun's report of rank 0 alone: it failed on the closed connection before rank 1 was seen gone.
    const onlyRank0 = [
      'ERROR:torch.distributed.elastic.multiprocessing.api:failed (exitcode: 1) local_rank: 0 (pid: 29479) of binary: /usr/bin/python3',
      'torch.distributed.elastic.multiprocessing.errors.ChildFailedError: ',
      '  rank      : 0 (local_rank: 0)',
    ];
    const reports = { localWorld: 2, multiNode: false, peers: new Set([0]) };
    expect(
      describeEngineExit({ code: 1, signal: null, stderrTail: onlyRank0 }, true, reports),
    ).toBe(
      'the PyTorch process of rank 1 ended without saying why (killed, perhaps for lack of memory); rank 0 lost its connection to it, so torchrun ended the run',
    );
  });

  it('says how a single process ended, with the last line of its traceback', () => {
    expect(describeEngineExit({ code: null, signal: 'SIGKILL', stderrTail: [] }, false)).toMatch(
      /^the PyTorch process was killed by SIGKILL/,
    );
    const traceback = [
      'Traceback (most recent call last):',
      '  File "x.py", line 1',
      'MemoryError: out',
    ];
    expect(describeEngineExit({ code: 1, signal: null, stderrTail: traceback }, false)).toBe(
      'the PyTorch process exited with code 1 (MemoryError: out)',
    );
  });

  it('runs torchrun as a module of the Python found, with its output settings for Debian’s torch', () => {
    const [file, args] = engineCommand(python, 'engine.py', 'config.json', {
      nprocPerNode: 4,
      nnodes: 2,
      nodeRank: 1,
      rdzvEndpoint: '10.0.0.1:29500',
    });
    expect(file).toBe('/usr/bin/python3');
    expect(args).toEqual([
      '-u',
      '-m',
      'torch.distributed.run',
      '--nnodes=2',
      '--node_rank=1',
      '--rdzv_endpoint=10.0.0.1:29500',
      '--nproc_per_node=4',
      '--monitor_interval=0.5',
      '--redirects=2',
      '--tee=2',
      'engine.py',
      'config.json',
    ]);
    expect(engineCommand(python, 'engine.py', 'config.json')).toEqual([
      '/usr/bin/python3',
      ['-u', 'engine.py', 'config.json'],
    ]);
  });
});
