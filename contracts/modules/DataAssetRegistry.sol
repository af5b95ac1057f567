// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {IDataAssetRegistry} from "../interfaces/IDataAssetRegistry.sol";
import {ProofSignals} from "../libraries/ProofSignals.sol";

/**
 * @title DataAssetRegistry
 * @notice Assets and their versions; see IDataAssetRegistry. EIP-712 domain: name "PartProof",
 * version "1", the chain id and this contract's address.
 */
abstract contract DataAssetRegistry is IDataAssetRegistry, Pausable, EIP712, Nonces {
    /// @inheritdoc IDataAssetRegistry
    // solhint-disable-next-line gas-small-strings
    bytes32 public constant PUBLISH_VERSION_TYPEHASH = keccak256(
        "PublishVersion(uint256 assetId,uint256 root,uint64 recordCount,uint32 treeDepth,"
        "bytes32 paramsHash,uint256 nonce,uint256 deadline)"
    );

    uint256 private _assetCount;
    mapping(uint256 assetId => Asset) internal _assets;
    mapping(uint256 versionId => Version) internal _versions;

    /// @dev Reverts unless `assetId` exists and the sender owns it.
    modifier onlyAssetOwner(uint256 assetId) {
        _checkAssetOwner(assetId, msg.sender);
        _;
    }

    /// @inheritdoc IDataAssetRegistry
    function registerAsset(
        string calldata schemaId,
        bytes32 metadataHash,
        string calldata endpoint
    ) external whenNotPaused returns (uint256 assetId) {
        if (bytes(schemaId).length == 0) revert InvalidSchemaId();
        assetId = ++_assetCount;
        Asset storage asset = _assets[assetId];
        asset.owner = msg.sender;
        asset.registeredAt = uint48(block.timestamp);
        asset.metadataHash = metadataHash;
        asset.schemaId = schemaId;
        asset.endpoint = endpoint;
        emit AssetRegistered(assetId, msg.sender, schemaId, metadataHash, endpoint);
    }

    /// @inheritdoc IDataAssetRegistry
    function updateEndpoint(
        uint256 assetId,
        string calldata endpoint
    ) external whenNotPaused onlyAssetOwner(assetId) {
        Asset storage asset = _liveAsset(assetId);
        string memory old = asset.endpoint;
        asset.endpoint = endpoint;
        emit AssetEndpointUpdated(assetId, old, endpoint);
    }

    /// @inheritdoc IDataAssetRegistry
    function updateMetadata(
        uint256 assetId,
        bytes32 metadataHash
    ) external whenNotPaused onlyAssetOwner(assetId) {
        Asset storage asset = _liveAsset(assetId);
        bytes32 old = asset.metadataHash;
        asset.metadataHash = metadataHash;
        emit AssetMetadataUpdated(assetId, old, metadataHash);
    }

    /// @inheritdoc IDataAssetRegistry
    function transferAssetOwnership(
        uint256 assetId,
        address newOwner
    ) external whenNotPaused onlyAssetOwner(assetId) {
        if (newOwner == address(0)) revert InvalidAssetOwner(newOwner);
        _assets[assetId].owner = newOwner;
        emit AssetOwnershipTransferred(assetId, msg.sender, newOwner);
    }

    /// @inheritdoc IDataAssetRegistry
    function retireAsset(uint256 assetId) external onlyAssetOwner(assetId) {
        _liveAsset(assetId).retired = true;
        emit AssetRetired(assetId);
    }

    /// @inheritdoc IDataAssetRegistry
    function publishVersion(
        uint256 assetId,
        uint256 root,
        uint64 recordCount,
        uint32 treeDepth,
        bytes32 paramsHash
    ) external whenNotPaused onlyAssetOwner(assetId) returns (uint256 versionId) {
        return _publish(assetId, root, recordCount, treeDepth, paramsHash);
    }

    /// @inheritdoc IDataAssetRegistry
    function publishVersionBySig(
        uint256 assetId,
        uint256 root,
        uint64 recordCount,
        uint32 treeDepth,
        bytes32 paramsHash,
        uint256 deadline,
        bytes calldata signature
    ) external whenNotPaused returns (uint256 versionId) {
        if (block.timestamp > deadline) revert ExpiredSignature(deadline);
        address owner = _existingAsset(assetId).owner;
        bytes32 structHash = keccak256(
            abi.encode(
                PUBLISH_VERSION_TYPEHASH,
                assetId,
                root,
                recordCount,
                treeDepth,
                paramsHash,
                _useNonce(owner),
                deadline
            )
        );
        if (!SignatureChecker.isValidSignatureNow(owner, _hashTypedDataV4(structHash), signature)) {
            revert InvalidPublishSignature(assetId, owner);
        }
        return _publish(assetId, root, recordCount, treeDepth, paramsHash);
    }

    /// @inheritdoc IDataAssetRegistry
    function getAsset(uint256 assetId) external view returns (Asset memory) {
        return _existingAsset(assetId);
    }

    /// @inheritdoc IDataAssetRegistry
    function getVersion(uint256 versionId) external view returns (Version memory) {
        Version storage version = _versions[versionId];
        if (version.root == 0) revert VersionNotFound(versionId);
        return version;
    }

    /// @inheritdoc IDataAssetRegistry
    function assetCount() external view returns (uint256) {
        return _assetCount;
    }

    /// @inheritdoc IDataAssetRegistry
    function versionIdOf(uint256 assetId, uint32 number) public pure returns (uint256) {
        return (assetId << 64) | number;
    }

    /// @dev Appends a version to a live asset and emits VersionPublished.
    function _publish(
        uint256 assetId,
        uint256 root,
        uint64 recordCount,
        uint32 treeDepth,
        bytes32 paramsHash
    ) private returns (uint256 versionId) {
        if (root == 0 || root >= ProofSignals.FIELD_MODULUS) revert InvalidRoot(root);
        Asset storage asset = _liveAsset(assetId);
        uint32 number = ++asset.versionCount;
        versionId = versionIdOf(assetId, number);
        _versions[versionId] = Version({
            root: root,
            recordCount: recordCount,
            publishedAt: uint48(block.timestamp),
            treeDepth: treeDepth,
            publishedBlock: uint48(block.number),
            paramsHash: paramsHash
        });
        emit VersionPublished(
            assetId,
            versionId,
            number,
            root,
            recordCount,
            treeDepth,
            paramsHash,
            msg.sender
        );
    }

    /// @dev Reverts with UnauthorizedAssetOwner unless `account` owns the existing `assetId`.
    function _checkAssetOwner(uint256 assetId, address account) internal view {
        if (_existingAsset(assetId).owner != account) {
            revert UnauthorizedAssetOwner(assetId, account);
        }
    }

    /// @dev The asset, reverting with AssetNotFound when it does not exist.
    function _existingAsset(uint256 assetId) internal view returns (Asset storage asset) {
        asset = _assets[assetId];
        if (asset.owner == address(0)) revert AssetNotFound(assetId);
    }

    /// @dev The existing asset, reverting with AssetIsRetired when it is retired.
    function _liveAsset(uint256 assetId) internal view returns (Asset storage asset) {
        asset = _existingAsset(assetId);
        if (asset.retired) revert AssetIsRetired(assetId);
    }
}
